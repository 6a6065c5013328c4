"""SELECTs make rows into exactly the instances Tortoise would, for every model."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise import Tortoise
from tortoise.models import Model

from tests.factories import loaded_state
from vdc_graph.db import models
from vdc_graph.db.rows import PlannedSelect
from vdc_graph.demo import seed_demo

ANCHOR = datetime(2025, 6, 15, tzinfo=UTC)


def _typed_state(instance: Model) -> dict[str, tuple[type, object]]:
    return {name: (type(value), value) for name, value in loaded_state(instance).items()}


def _all_models() -> list[type[Model]]:
    return sorted(Tortoise.apps["models"].values(), key=lambda model: model.__name__)


def _as_tortoise_makes_it(model: type[Model], row: object) -> Model:
    return model._init_from_db(**row)  # type: ignore[arg-type]


async def test_every_model_loads_as_tortoise_would_load_it(db: str) -> None:
    await seed_demo(customers=6, seed=3, anchor=ANCHOR)
    connection = Tortoise.get_connection("default")
    assert isinstance(connection.executor_class(models.Customer, connection), PlannedSelect)
    compared = 0
    for model in _all_models():
        query = model.all().order_by(model._meta.pk_attr)
        _, rows = await connection.execute_query(query.sql())
        loaded = await query
        assert [_typed_state(i) for i in loaded] == [
            _typed_state(_as_tortoise_makes_it(model, row)) for row in rows
        ], model.__name__
        compared += len(loaded)
    assert compared > 1000  # the demo data gives most models rows


async def test_costly_columns_are_converted_when_first_read(db: str) -> None:
    await seed_demo(customers=3, seed=3, anchor=ANCHOR)
    customer = (await models.Customer.all().order_by("id"))[0]
    assert "created_at" not in vars(customer) and "protected_services" not in vars(customer)
    assert "display_name" in vars(customer)  # text needs no conversion: set at once
    created = customer.created_at
    assert isinstance(created, datetime) and created.tzinfo is not None
    assert vars(customer)["created_at"] is created  # converted once, then kept
    customer.protected_services = ["EXCHANGE"]  # a value set before it is read wins
    assert customer.protected_services == ["EXCHANGE"]
    try:
        customer.no_such_column  # noqa: B018
    except AttributeError as error:
        assert "no_such_column" in str(error)
    else:
        raise AssertionError("an unknown attribute must raise AttributeError")


async def test_an_annotated_select_sets_the_annotation(db: str) -> None:
    from tortoise.functions import Lower

    await seed_demo(customers=3, seed=3, anchor=ANCHOR)
    rows = await models.Customer.all().annotate(key=Lower("display_name")).order_by("key")
    assert [row.key for row in rows] == sorted(row.display_name.lower() for row in rows)
    assert all(row.id and not row._partial for row in rows)


async def test_a_partial_select_stays_partial(db: str) -> None:
    await seed_demo(customers=3, seed=3, anchor=ANCHOR)
    rows = await models.Customer.all().only("id", "display_name")
    assert rows and all(row._partial for row in rows)
    assert {row.display_name for row in rows} == set(
        await models.Customer.all().values_list("display_name", flat=True)
    )


async def test_rows_read_inside_a_transaction_are_planned_too(db: str) -> None:
    from tortoise.transactions import in_transaction

    await seed_demo(customers=3, seed=3, anchor=ANCHOR)
    async with in_transaction() as connection:
        assert isinstance(connection.executor_class(models.Customer, connection), PlannedSelect)
        customers = await models.Customer.all().using_db(connection)
    assert {c.id for c in customers} == set(
        await models.Customer.all().values_list("id", flat=True)
    )
