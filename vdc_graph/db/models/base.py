"""What every business table shares: an opaque UUID key and a creation time."""

import uuid

from tortoise import fields
from tortoise.models import Model

from vdc_graph import clock
from vdc_graph.db.rows import DeferredColumns


def _now():  # a function, so a test's clock is read at insert time
    return clock.now()


class Entity(DeferredColumns, Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    created_at = fields.DatetimeField(default=_now)

    class Meta:
        abstract = True
