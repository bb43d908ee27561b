"""HTTP control and metrics of the keeper (FastAPI on 127.0.0.1 by default)."""

from hedgekeeper.api.app import KeeperControl, check_bind, create_app, is_loopback
from hedgekeeper.api.server import ApiServer

__all__ = ["ApiServer", "KeeperControl", "check_bind", "create_app", "is_loopback"]
