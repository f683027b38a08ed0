"""Reading a suite file (`suite_path`): only regular text files inside the configured suite folders.

The folders come from `SNOWMCP_QUALITY_SUITES_DIR` (default: the demo suites
folder under the state dir). A path is resolved — `~`, `..` and every symlink —
before it is compared with the folders, so a link inside a folder that points
outside is refused like the outside path itself. A relative path is looked up in
each folder in turn.

Only a regular file is opened (never a device, a FIFO, a socket or a directory:
`stat` is checked first, the file is opened non-blocking without following a
last-moment symlink, and checked again on the open descriptor), and at most
`MAX_SUITE_BYTES + 1` bytes are read. The text must be UTF-8. No error quotes
the file: it names the path given, the folders allowed and, for bad bytes, an
offset.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from snowmcp.common.errors import InvalidArgument
from snowmcp.servers.quality.suite_limits import MAX_SUITE_BYTES

_HINT = "Put the suite in one of the suite folders, or set SNOWMCP_QUALITY_SUITES_DIR to allow its folder."
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class SuiteFolders:
    """The folders `suite_path` may read, resolved once."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = [Path(os.path.realpath(f.expanduser())) for f in folders]

    def describe(self) -> str:
        return ", ".join(str(f) for f in self.folders) or "(none)"

    def resolve(self, given: str) -> Path:
        """The real path of `given` if it lies inside a suite folder; otherwise `InvalidArgument`."""
        if not isinstance(given, str) or not given.strip() or "\x00" in given or len(given) > 4096:
            raise InvalidArgument("suite_path must be a file path", hint=_HINT)
        path = Path(given).expanduser()
        candidates = [path] if path.is_absolute() else [folder / path for folder in self.folders]
        inside = [real for real in (Path(os.path.realpath(c)) for c in candidates) if self._allowed(real)]
        for real in inside:
            if real.exists():
                return real
        if inside:
            raise InvalidArgument(f"no suite file {given!r} in the suite folders ({self.describe()})", hint=_HINT)
        raise InvalidArgument(f"suite_path {given!r} is outside the suite folders ({self.describe()})", hint=_HINT)

    def _allowed(self, real: Path) -> bool:
        return any(real != folder and real.is_relative_to(folder) for folder in self.folders)

    def read(self, given: str) -> str:
        """The text of a suite file inside the folders: a regular UTF-8 file of at most `MAX_SUITE_BYTES`."""
        real = self.resolve(given)
        _require_regular(os.stat(real).st_mode, given)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            descriptor = os.open(real, flags)
        except OSError as exc:
            raise InvalidArgument(f"cannot open suite file {given!r}: {exc.strerror or type(exc).__name__}") from None
        try:
            _require_regular(os.fstat(descriptor).st_mode, given)  # the file opened is still a regular file
            data = _read_at_most(descriptor, MAX_SUITE_BYTES + 1)
        finally:
            os.close(descriptor)
        if len(data) > MAX_SUITE_BYTES:
            raise InvalidArgument(f"suite file {given!r} is larger than {MAX_SUITE_BYTES} bytes",
                                  hint="Split it into one suite per table.")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArgument(f"suite file {given!r} is not UTF-8 text (an invalid byte at offset {exc.start})",
                                  hint="A suite is a YAML (or JSON) text file.") from None
        if "\x00" in text:
            raise InvalidArgument(f"suite file {given!r} is not text (it holds a NUL byte at offset "
                                  f"{data.index(0)})", hint="A suite is a YAML (or JSON) text file.")
        return text


def _require_regular(mode: int, given: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise InvalidArgument(f"suite file {given!r} is {kind}, not a regular file", hint="A suite is a YAML (or JSON) text file.")


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(descriptor, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
