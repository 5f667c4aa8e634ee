"""Recorded audio and pictograms in a definition file: what the loader accepts, and what it refuses
with a message naming the file and the key (docs/instruments.md)."""

from pathlib import Path

import pytest

from surveys.attachments import PICTOGRAM_MAX_BYTES, RECORDING_MAX_BYTES
from surveys.loading import InstrumentDefinitionError, parse_definition, read_definition_file
from tests.surveys.factories import definition_data, item_data

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'


def parsed(data: dict, folder: Path):
    return parse_definition(data, source=str(folder / "test.yaml"), base_dir=folder)


def error(data: dict, folder: Path) -> str:
    with pytest.raises(InstrumentDefinitionError) as caught:
        parsed(data, folder)
    return str(caught.value)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "halsa.sv.mp3").write_bytes(MP3)
    (tmp_path / "pictograms").mkdir()
    (tmp_path / "pictograms" / "halsa.svg").write_bytes(SVG)
    return tmp_path


def with_audio(audio: dict) -> dict:
    data = definition_data()
    item_data(data, "halsa_1")["audio"] = audio
    return data


def with_pictogram(pictogram: dict) -> dict:
    data = definition_data()
    item_data(data, "halsa_1")["pictogram"] = pictogram
    return data


def test_recordings_and_pictograms_are_read_relative_to_the_file(folder):
    data = with_pictogram({"file": "pictograms/halsa.svg", "alt": {"sv": "Ett hjärta", "en": "A heart"}})
    item_data(data, "halsa_1")["audio"] = {"sv": "audio/halsa.sv.mp3"}
    data["scales"][0]["stages"][0]["audio"] = {"sv": "audio/halsa.sv.mp3"}
    data["scales"][1]["options"][0]["pictogram"] = {"file": "pictograms/halsa.svg", "alt": {"sv": "Tumme upp"}}
    (folder / "test.yaml").write_text("", encoding="utf-8")
    definition = parsed(data, folder)
    assert [(language, text) for language, text, _ in definition.recordings()] == [
        ("sv", "Jag mår bra."),
        ("sv", "Låg"),
    ]
    item = definition.dimensions[0].items[0]
    assert item.pictogram.alt == {"sv": "Ett hjärta", "en": "A heart"}
    assert item.pictogram.file.endswith(".svg") and len(item.pictogram.file) == 28
    assert definition.scales[1].options[0].pictogram.alt == {"sv": "Tumme upp"}
    assert len(definition.pictograms()) == 2


def test_a_file_on_disk_names_its_attachments_relative_to_itself(folder):
    import yaml

    (folder / "fragor.yaml").write_text(
        yaml.safe_dump(with_audio({"sv": "audio/halsa.sv.mp3"}), allow_unicode=True), encoding="utf-8"
    )
    definition = read_definition_file(folder / "fragor.yaml")
    assert definition.recordings()[0][2].path == folder / "audio" / "halsa.sv.mp3"


def test_a_missing_recording_names_the_file_and_the_key(folder):
    message = error(with_audio({"sv": "audio/saknas.mp3"}), folder)
    assert message.startswith(f"{folder / 'test.yaml'}: dimensions[halsa].items[halsa_1].audio.sv: 'audio/saknas.mp3'")
    assert "finns inte" in message


def test_an_oversized_recording_is_refused(folder):
    (folder / "audio" / "lang.mp3").write_bytes(MP3 + b"\0" * RECORDING_MAX_BYTES)
    message = error(with_audio({"sv": "audio/lang.mp3"}), folder)
    assert "dimensions[halsa].items[halsa_1].audio.sv: 'audio/lang.mp3'" in message
    assert "för stor" in message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("fraga.txt", b"hej", "filtypen '.txt' är inte tillåten (tillåtna: mp3, ogg, m4a, wav)"),
        ("fraga.mp3", b"<html>inte ljud</html>", "ingen giltig .mp3-fil"),
        ("fraga.ogg", MP3, "ingen giltig .ogg-fil"),
    ],
    ids=["type by name", "type by content", "mp3 named ogg"],
)
def test_a_recording_of_the_wrong_type_is_refused(folder, name, content, expected):
    (folder / "audio" / name).write_bytes(content)
    message = error(with_audio({"sv": f"audio/{name}"}), folder)
    assert f"items[halsa_1].audio.sv: 'audio/{name}'" in message
    assert expected in message


def test_a_recording_needs_the_text_it_reads(folder):
    message = error(with_audio({"ar": "audio/halsa.sv.mp3"}), folder)
    assert "items[halsa_1].audio.ar: det finns ingen text på 'ar' att läsa in" in message
    data = definition_data()
    item_data(data, "prognos")["audio"] = {"sv": "audio/halsa.sv.mp3"}  # asked of the mentor only
    assert "items[prognos].audio: inspelat ljud läser deltagarens formulering" in error(data, folder)
    data = with_audio({"de": "audio/halsa.sv.mp3"})
    assert "items[halsa_1].audio: okänd nyckel 'de'" in error(data, folder)


def test_a_missing_pictogram_names_the_file_and_the_key(folder):
    message = error(with_pictogram({"file": "pictograms/saknas.svg", "alt": {"sv": "Ett hjärta"}}), folder)
    assert "dimensions[halsa].items[halsa_1].pictogram.file: 'pictograms/saknas.svg': filen" in message
    assert "finns inte" in message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bild.gif", b"GIF89a", "filtypen '.gif' är inte tillåten (tillåtna: svg, png, webp)"),
        ("bild.png", SVG, "ingen giltig .png-fil"),
        ("bild.svg", b"<svg><script>alert(1)</script></svg>", "ingen giltig .svg-fil"),
        ("stor.svg", SVG + b" " * PICTOGRAM_MAX_BYTES, "för stor"),
    ],
    ids=["gif", "svg named png", "svg with a script", "oversized"],
)
def test_a_pictogram_of_the_wrong_type_or_size_is_refused(folder, name, content, expected):
    (folder / "pictograms" / name).write_bytes(content)
    message = error(with_pictogram({"file": f"pictograms/{name}", "alt": {"sv": "Bild"}}), folder)
    assert f"items[halsa_1].pictogram.file: 'pictograms/{name}'" in message
    assert expected in message


def test_a_pictogram_needs_a_swedish_alt_text(folder):
    message = error(with_pictogram({"file": "pictograms/halsa.svg", "alt": {"en": "A heart"}}), folder)
    assert "items[halsa_1].pictogram.alt: saknar nyckeln 'sv'" in message
    message = error(with_pictogram({"file": "pictograms/halsa.svg"}), folder)
    assert "items[halsa_1].pictogram: saknar nyckeln 'alt'" in message


def test_a_pictogram_is_part_of_the_version_and_a_recording_is_not(folder):
    plain = parsed(definition_data(), folder).content_hash
    assert parsed(with_audio({"sv": "audio/halsa.sv.mp3"}), folder).content_hash == plain
    pictured = parsed(with_pictogram({"file": "pictograms/halsa.svg", "alt": {"sv": "Ett hjärta"}}), folder)
    assert pictured.content_hash != plain
    (folder / "pictograms" / "halsa.svg").write_bytes(SVG.replace(b'r="4"', b'r="3"'))
    redrawn = parsed(with_pictogram({"file": "pictograms/halsa.svg", "alt": {"sv": "Ett hjärta"}}), folder)
    assert redrawn.content_hash != pictured.content_hash
