"""What progression plugs into the apps it depends on (registered in ProgressionConfig.ready)."""

import logging

from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_session_processing(session_id: int) -> None:
    """After commit of a submitted reading. If the broker is down the reading is still stored and
    acknowledged; the periodic sweep scores it later."""
    from progression.tasks import process_session

    try:
        process_session.delay(session_id)
    except OperationalError:
        logger.warning("Kunde inte köa poängberäkning för bedömning %s; svepet tar den senare", session_id)
