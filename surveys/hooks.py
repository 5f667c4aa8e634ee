"""Extension points for apps that depend on surveys (progression registers here in ready())."""

from collections.abc import Callable

# f(session_id) runs after a session is stored and the transaction has committed
# (progression enqueues scoring here).
SESSION_SUBMITTED_HANDLERS: list[Callable[[int], None]] = []
