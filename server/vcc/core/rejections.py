"""A rejected command changes nothing and says, with a stable code, what to do instead."""

from vcc_protocol.errors import ERROR_CODES


class Rejected(Exception):
    """Raised by ``decide``: ``code`` is one of ``vcc_protocol.errors.ERROR_CODES``;
    ``message`` is a sentence for the person who sent the command."""

    def __init__(self, code: str, message: str) -> None:
        assert code in ERROR_CODES, f"undocumented error code {code!r}"
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
