"""The heartbeat: a GET of `schedule.heartbeat_url` after every cycle that ran.

This is the push-monitor convention of healthchecks.io and Uptime Kuma: the monitor
expects a request every interval and raises the alarm when they stop, which catches
what `rygrad status` cannot, a worker that is not running at all. A cycle that could
not run (exit status 2) sends none, so the monitor sees that too. A heartbeat that
fails is logged as a warning and never fails the cycle.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from automation import __version__

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds: a monitor that hangs must not hold up the next cycle


def ping(url: str, timeout: float = TIMEOUT) -> bool:
    """Request `url`; True when it answered 2xx or 3xx. Never raises."""
    request = urllib.request.Request(url, headers={"User-Agent": f"rygrad/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(4096)  # the monitor's short answer ("OK"); not needed
    except urllib.error.HTTPError as err:
        reason = f"HTTP {err.code} {err.reason}"
    except urllib.error.URLError as err:
        reason = str(err.reason)
    except (OSError, http.client.HTTPException, ValueError) as err:  # a timeout, a bad reply
        reason = str(err) or type(err).__name__
    else:
        return True
    # the URL's path is often the monitor's secret token: name only the host
    log.warning("heartbeat to %s failed: %s", urlsplit(url).netloc, reason)
    return False
