"""Permission predicates for templates whose view does not pass them (shared includes)."""

from django import template

from interviews import permissions
from interviews.models import Session
from interviews.permissions import Role

register = template.Library()


@register.simple_tag
def offers_swap(session: Session, role: Role | None) -> bool:
    return permissions.offers_swap(role, session)
