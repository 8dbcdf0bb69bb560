"""The access-log receiver (``eventpipe access-logs``): HTTP access logs → access events.

Lines in Common or Combined Log Format, or JSON lines, arrive over TCP from any number of
connections (:class:`TcpReceiver`) or from a followed, rotated log file
(:class:`FileFollower`); each becomes an ``access`` event of the configured component
(:func:`parse_line`), published through the shared producer, or a dead letter with the
raw line and the reason. See ``docs/access_logs.md``.
"""

from front_doors.access_logs.follow import FileFollower
from front_doors.access_logs.parse import parse_line
from front_doors.access_logs.publisher import AccessPublisher
from front_doors.access_logs.run import run_access_logs, serve
from front_doors.access_logs.settings import AccessLogSettings
from front_doors.access_logs.tcp import TcpReceiver

__all__ = [
    "AccessLogSettings",
    "AccessPublisher",
    "FileFollower",
    "TcpReceiver",
    "parse_line",
    "run_access_logs",
    "serve",
]
