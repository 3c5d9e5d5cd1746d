import os

from django.core.wsgi import get_wsgi_application

from core.middleware import reject_malformed_content_type_wsgi

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = reject_malformed_content_type_wsgi(get_wsgi_application())
