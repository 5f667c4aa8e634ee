from rest_framework import serializers

from participants.models import Enrolment, Insats


class InsatsSerializer(serializers.ModelSerializer):
    forbund = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Insats
        fields = ["code", "name", "forbund", "kind", "category", "measurement_mode", "capacity", "active"]


class EnrolmentSerializer(serializers.ModelSerializer):
    participant = serializers.SlugRelatedField(slug_field="pseudonym", read_only=True)
    insats = serializers.SlugRelatedField(slug_field="code", read_only=True)
    mentor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "participant", "insats", "start_date", "end_date", "mentor"]
