"""Extension points for apps that depend on participants (dependencies point one way).

surveys and progression register here in their AppConfig.ready(), so that erasure, export and
consent withdrawal cover their data without participants importing them.
"""

from collections.abc import Callable
from typing import Any

# f(participant) -> {"section name": JSON-serialisable data} for the GDPR export.
EXPORT_SECTIONS: list[Callable[[Any], dict[str, Any]]] = []

# f(participant, policy) with policy "delete" or "anonymise", after progression consent is withdrawn.
PROGRESSION_WITHDRAWAL_HANDLERS: list[Callable[[Any, str], None]] = []

# f() first in a transaction that is about to delete or change readings (their derived rows go
# with them): takes the locks every writer of derived data takes first (progression.derived_tables),
# so that the transaction never holds a derived row while it waits for them.
DERIVED_DATA_LOCKS: list[Callable[[], None]] = []

# f(participant) removes free text that could identify the person, when identity is erased.
ERASURE_HANDLERS: list[Callable[[Any], None]] = []

# (model, text field, lookup from the model to its förbund's id): every free text staff can type in
# a förbund. On erasure, the person's name, contact and personnummer are replaced in all of them.
FORBUND_TEXT_FIELDS: list[tuple[Any, str, str]] = []

# f(enrolment, user) -> [(label, url)] shown as buttons on the participant page for an enrolment.
ENROLMENT_LINKS: list[Callable[[Any, Any], list[tuple[str, str]]]] = []

# f(enrolment, user) -> [{"title", "text", "links": [(label, url)]}]: what to do before an avslut
# (a final reading, the exit survey), shown on the avslut form and its confirmation.
ENROLMENT_CLOSING: list[Callable[[Any, Any], list[dict[str, Any]]]] = []

# f(insats, user) -> [(label, url)] shown as buttons on the insats page.
INSATS_LINKS: list[Callable[[Any, Any], list[tuple[str, str]]]] = []

# f(enrolment) -> [url] of the pages a mentor needs for this enrolment without a connection.
OFFLINE_PAGES: list[Callable[[Any], list[str]]] = []

# f() -> url of the coordinator's start page (progression's report dashboard), if any.
COORDINATOR_START: list[Callable[[], str]] = []
