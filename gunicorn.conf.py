"""gunicorn's settings for Spar: `gunicorn -c gunicorn.conf.py config.wsgi ...`.

gunicorn also reads this file by itself when started from the repository root. Uvicorn's gunicorn
worker takes its proxy trust from the same setting, so it holds for ASGI as well.
"""

import os

# Addresses (or networks, comma-separated) whose X-Forwarded-Proto gunicorn believes when it
# decides whether a request came over HTTPS. gunicorn's own default trusts 127.0.0.1, so any
# program on the same host could make a plain-HTTP request look secure; here nobody is trusted
# unless FORWARDED_ALLOW_IPS names the proxy. README, "Running in production", says what a proxy
# on the same host needs.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
