"""`/me`: the caller, the roles they hold and what those roles reach."""


def test_grid_worker_sees_their_grid_and_its_buildings(client_as, tree):
    body = client_as("grid_worker").get("/api/v1/me").json()
    assert body["user"]["username"] == "grid_worker"
    assert body["user"]["phone"] == "13800000001"
    [role] = body["roles"]
    assert role["role"] == "grid_worker"
    assert role["role_label"] == "网格员"
    assert role["grid"]["code"] == tree["grid"].code
    assert role["place"] is None
    assert body["scopes"] == [
        {"role": "grid_worker", "place_codes": [tree["building"].code], "everywhere": False}
    ]


def test_secretary_reaches_the_community(client_as, tree):
    body = client_as("secretary").get("/api/v1/me").json()
    [role] = body["roles"]
    assert role["place"] == {
        "code": tree["community"].code,
        "name": "虹桥新城居民区",
        "kind": "community",
    }
    assert body["scopes"][0]["place_codes"] == [tree["community"].code]


def test_administrator_reaches_everywhere(client_as):
    body = client_as("admin").get("/api/v1/me").json()
    assert body["scopes"] == [{"role": "administrator", "place_codes": [], "everywhere": True}]
