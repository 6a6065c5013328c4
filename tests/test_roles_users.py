"""Roles and users: the rules of user management, each refusal included."""

from __future__ import annotations

from strawberry import relay

from tests.factories import make_provider, make_role, make_user, token_for
from vdc_graph.enums import Permission

ROLE_CREATE = """
mutation($input: RoleCreateInput!) { roleCreate(input: $input) {
  role { id name permissions builtIn } userErrors { message field code } } }"""
ROLE_UPDATE = """
mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) {
  role { id name permissions } userErrors { message field code } } }"""
ROLE_DELETE = """
mutation($input: RoleDeleteInput!) { roleDelete(input: $input) {
  deletedRoleId userErrors { message field code } } }"""
ROLES = """query($filter: RoleFilter) { roles(filter: $filter) {
  totalCount nodes { id name builtIn permissions userCount } } }"""
USER_CREATE = """
mutation($input: UserCreateInput!) { userCreate(input: $input) {
  user { id email firstName lastName roles { name } } userErrors { message field code } } }"""
USER_UPDATE = """
mutation($input: UserUpdateInput!) { userUpdate(input: $input) {
  user { id firstName roles { name } } userErrors { message field code } } }"""
USER_DELETE = """
mutation($input: UserDeleteInput!) { userDelete(input: $input) {
  deletedUserId userErrors { message field code } } }"""
BULK = """
mutation($input: UsersBulkEditInput!) { usersBulkEdit(input: $input) {
  users { email roles { name } } userErrors { message field code } } }"""
USERS = """query($filter: UserFilter) { users(filter: $filter) {
  totalCount nodes { email roles { name } } } }"""
VIEWER = "{ viewer { permissions } }"


def gid(type_name: str, row) -> str:
    return str(relay.GlobalID(type_name, str(row.id)))


async def admin(settings):
    """A user manager holding every permission (nobody grants what they do not hold)."""
    provider = await make_provider()
    user = await make_user(provider, list(Permission))
    return provider, user, token_for(settings, user)


async def test_roles_list_includes_the_built_in_administrator_with_every_permission(api, settings):
    _, _, token = await admin(settings)
    data = await api.data(ROLES, token=token)
    admin_role = [r for r in data["roles"]["nodes"] if r["builtIn"]]
    assert len(admin_role) == 1
    assert admin_role[0]["name"] == "Administrator"
    assert admin_role[0]["permissions"] == [p.value for p in Permission]


async def test_role_create_adds_monitoring_and_checks_names_and_advanced(api, settings):
    _, _, token = await admin(settings)
    created = (
        await api.data(
            ROLE_CREATE,
            {"input": {"name": "Backup operators", "permissions": ["BACKUP_MANAGEMENT"]}},
            token=token,
        )
    )["roleCreate"]
    assert created["userErrors"] == []
    assert created["role"]["permissions"] == ["MONITORING_ACCESS", "BACKUP_MANAGEMENT"]
    duplicate = (
        await api.data(
            ROLE_CREATE, {"input": {"name": "BACKUP Operators", "permissions": []}}, token=token
        )
    )["roleCreate"]
    assert duplicate["role"] is None
    assert duplicate["userErrors"][0]["code"] == "DUPLICATE"
    assert duplicate["userErrors"][0]["field"] == ["input", "name"]
    advanced = (
        await api.data(
            ROLE_CREATE,
            {"input": {"name": "Adv", "permissions": ["ADVANCED_BACKUP_MANAGEMENT"]}},
            token=token,
        )
    )["roleCreate"]
    assert advanced["userErrors"][0]["field"] == ["input", "permissions"]
    blank = (
        await api.data(ROLE_CREATE, {"input": {"name": "  ", "permissions": []}}, token=token)
    )["roleCreate"]
    assert blank["userErrors"][0]["code"] == "REQUIRED"
    names = {r["name"] for r in (await api.data(ROLES, token=token))["roles"]["nodes"]}
    assert names == {"Administrator", "Backup operators"} | {
        n for n in names if n.startswith("Role ")
    }


async def test_administrator_cannot_be_reduced_renamed_or_deleted(api, settings):
    _, _, token = await admin(settings)
    roles = (await api.data(ROLES, token=token))["roles"]["nodes"]
    admin_id = next(r["id"] for r in roles if r["builtIn"])
    reduced = (
        await api.data(
            ROLE_UPDATE,
            {"input": {"id": admin_id, "permissions": ["MONITORING_ACCESS"]}},
            token=token,
        )
    )["roleUpdate"]
    assert reduced["userErrors"][0]["code"] == "BUILT_IN_ROLE"
    renamed = (
        await api.data(ROLE_UPDATE, {"input": {"id": admin_id, "name": "Boss"}}, token=token)
    )["roleUpdate"]
    assert renamed["userErrors"][0]["code"] == "BUILT_IN_ROLE"
    deleted = (await api.data(ROLE_DELETE, {"input": {"id": admin_id}}, token=token))["roleDelete"]
    assert deleted["userErrors"][0]["code"] == "BUILT_IN_ROLE"


async def test_deleting_a_role_removes_it_from_its_users(api, settings):
    provider, _, token = await admin(settings)
    role = await make_role(provider, [Permission.SITE_SETTINGS], name="Settings people")
    other = await make_user(provider, email="other@contoso.example")
    await other.roles.add(role)
    result = (await api.data(ROLE_DELETE, {"input": {"id": gid("Role", role)}}, token=token))[
        "roleDelete"
    ]
    assert result == {"deletedRoleId": gid("Role", role), "userErrors": []}
    users = await api.data(USERS, {"filter": {"search": "other@"}}, token=token)
    assert users["users"]["nodes"] == [{"email": "other@contoso.example", "roles": []}]
    # And the user's rights follow on the very next request.
    assert (await api.data(VIEWER, token=token_for(settings, other)))["viewer"]["permissions"] == []


async def test_roles_need_user_management_and_another_providers_role_is_not_found(api, settings):
    provider = await make_provider()
    monitor = await make_user(provider, [])
    errors = await api.errors(ROLES, token=token_for(settings, monitor))
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    _, _, token = await admin(settings)
    foreign = await make_role(provider, [Permission.SITE_SETTINGS])
    errors = await api.errors(
        ROLE_UPDATE, {"input": {"id": gid("Role", foreign), "name": "x"}}, token=token
    )
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_no_lock_out_through_roles_or_users(api, settings):
    provider, me, token = await admin(settings)
    my_role = (await me.roles.all())[0]
    removed = (
        await api.data(
            ROLE_UPDATE,
            {"input": {"id": gid("Role", my_role), "permissions": ["MONITORING_ACCESS"]}},
            token=token,
        )
    )["roleUpdate"]
    assert removed["userErrors"][0]["code"] == "LAST_USER_MANAGER"
    deleted_role = (
        await api.data(ROLE_DELETE, {"input": {"id": gid("Role", my_role)}}, token=token)
    )["roleDelete"]
    assert deleted_role["userErrors"][0]["code"] == "LAST_USER_MANAGER"
    deleted_me = (
        await api.data(USER_DELETE, {"input": {"id": gid("PortalUser", me)}}, token=token)
    )["userDelete"]
    assert deleted_me["userErrors"][0]["code"] == "LAST_USER_MANAGER"
    dropped = (
        await api.data(
            USER_UPDATE, {"input": {"id": gid("PortalUser", me), "roleIds": []}}, token=token
        )
    )["userUpdate"]
    assert dropped["userErrors"][0]["code"] == "LAST_USER_MANAGER"
    # Nothing was written: I still manage users.
    assert "USER_MANAGEMENT" in (await api.data(VIEWER, token=token))["viewer"]["permissions"]
    # With a second manager, the first may step down.
    second = await make_user(provider, [Permission.USER_MANAGEMENT])
    ok = (await api.data(USER_DELETE, {"input": {"id": gid("PortalUser", me)}}, token=token))[
        "userDelete"
    ]
    assert ok["userErrors"] == []
    assert second is not None


async def test_user_create_validates_email_and_uniqueness_ignoring_case(api, settings):
    provider, _, token = await admin(settings)
    role = await make_role(provider, [Permission.BACKUP_MANAGEMENT], name="Backup")
    created = (
        await api.data(
            USER_CREATE,
            {
                "input": {
                    "email": "Kim.Lee@Contoso.com",
                    "firstName": "Kim",
                    "lastName": "Lee",
                    "roleIds": [gid("Role", role)],
                }
            },
            token=token,
        )
    )["userCreate"]
    assert created["userErrors"] == []
    assert created["user"]["roles"] == [{"name": "Backup"}]
    again = (
        await api.data(
            USER_CREATE,
            {"input": {"email": "kim.lee@contoso.com", "firstName": "K", "lastName": "L"}},
            token=token,
        )
    )["userCreate"]
    assert again["userErrors"][0]["code"] == "DUPLICATE"
    for bad in ("kim", "kim+alias@contoso.com", "kim@contoso", "@contoso.com"):
        refused = (
            await api.data(
                USER_CREATE,
                {"input": {"email": bad, "firstName": "K", "lastName": "L"}},
                token=token,
            )
        )["userCreate"]
        assert refused["userErrors"][0]["code"] == "INVALID_EMAIL", bad
    foreign_role = await make_role(await make_provider(), [])
    unknown_role = (
        await api.data(
            USER_CREATE,
            {
                "input": {
                    "email": "x@contoso.com",
                    "firstName": "X",
                    "lastName": "Y",
                    "roleIds": [gid("Role", foreign_role)],
                }
            },
            token=token,
        )
    )["userCreate"]
    assert unknown_role["userErrors"][0]["field"] == ["input", "roleIds", "0"]


async def test_users_filter_by_text_and_role(api, settings):
    provider, _, token = await admin(settings)
    role = await make_role(provider, [], name="Watchers")
    a = await make_user(provider, email="ann@contoso.com")
    await a.roles.add(role)
    await make_user(provider, email="bob@contoso.com")
    by_role = await api.data(USERS, {"filter": {"roleId": gid("Role", role)}}, token=token)
    assert [u["email"] for u in by_role["users"]["nodes"]] == ["ann@contoso.com"]
    by_text = await api.data(USERS, {"filter": {"search": "BOB"}}, token=token)
    assert [u["email"] for u in by_text["users"]["nodes"]] == ["bob@contoso.com"]


async def test_bulk_edit_sets_roles_of_all_users_or_none(api, settings):
    provider, _, token = await admin(settings)
    role = await make_role(provider, [Permission.SITE_SETTINGS], name="Settings")
    a = await make_user(provider, email="a@contoso.com")
    b = await make_user(provider, email="b@contoso.com")
    foreign = await make_user(await make_provider(), email="c@contoso.com")
    refused = (
        await api.data(
            BULK,
            {
                "input": {
                    "userIds": [gid("PortalUser", a), gid("PortalUser", foreign)],
                    "roleIds": [gid("Role", role)],
                }
            },
            token=token,
        )
    )["usersBulkEdit"]
    assert refused["userErrors"][0]["field"] == ["input", "userIds", "1"]
    assert await a.roles.all().count() == 0  # nothing written
    done = (
        await api.data(
            BULK,
            {
                "input": {
                    "userIds": [gid("PortalUser", a), gid("PortalUser", b)],
                    "roleIds": [gid("Role", role)],
                }
            },
            token=token,
        )
    )["usersBulkEdit"]
    assert done["userErrors"] == []
    assert [u["roles"] for u in done["users"]] == [[{"name": "Settings"}], [{"name": "Settings"}]]


async def test_a_changed_role_applies_to_the_users_next_request(api, settings):
    provider, _, token = await admin(settings)
    role = await make_role(provider, [Permission.SITE_SETTINGS], name="Changing")
    user = await make_user(provider)
    await user.roles.add(role)
    their_token = token_for(settings, user)
    before = (await api.data(VIEWER, token=their_token))["viewer"]["permissions"]
    assert "SITE_SETTINGS" in before
    await api.data(
        ROLE_UPDATE,
        {"input": {"id": gid("Role", role), "permissions": ["BACKUP_MANAGEMENT"]}},
        token=token,
    )
    after = (await api.data(VIEWER, token=their_token))["viewer"]["permissions"]
    assert after == ["MONITORING_ACCESS", "BACKUP_MANAGEMENT"]


async def test_the_administrator_name_is_taken_and_never_grants_a_custom_role_more(api, settings):
    provider, _, token = await admin(settings)
    taken = (
        await api.data(
            ROLE_CREATE, {"input": {"name": "ADMINISTRATOR", "permissions": []}}, token=token
        )
    )["roleCreate"]
    assert taken["userErrors"][0]["code"] == "DUPLICATE"
    # A role made outside the API that holds the name keeps its permissions.
    other = await make_provider()
    await make_role(other, [], name="administrator")
    other_token = token_for(settings, await make_user(other, [Permission.USER_MANAGEMENT]))
    roles = (await api.data(ROLES, token=other_token))["roles"]["nodes"]
    by_name = {r["name"]: r for r in roles}
    assert by_name["administrator"]["builtIn"] is False
    assert by_name["administrator"]["permissions"] == ["MONITORING_ACCESS"]
    assert by_name["Administrator (built-in)"]["builtIn"] is True
    assert provider is not None
