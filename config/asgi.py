import os

from django.core.asgi import get_asgi_application

from core.middleware import reject_malformed_content_type_asgi

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = reject_malformed_content_type_asgi(get_asgi_application())
