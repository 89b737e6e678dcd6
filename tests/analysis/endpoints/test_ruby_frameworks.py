"""The Ruby extractor over one small app per framework: Rails, Sinatra, Grape, Hanami."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.endpoints.ruby import extractor
from backend_agent.analysis.project import Project

FIXTURES = Path(__file__).parents[2] / "fixtures" / "endpoints"


def inventory(root: Path) -> Inventory:
    project = Project(root)
    facts = {
        f: extractor.scan(f, project.read_bytes(f)) for f in project.files() if extractor.wants(f)
    }
    return extractor.resolve(facts, project)


def auth_by_route(root: Path) -> dict[tuple[str, str], str]:
    return {(e.method, e.path): e.auth for e in inventory(root).endpoints}


@pytest.mark.parametrize("app", ["rails", "sinatra", "grape", "hanami"])
def test_fixture_app_matches_expected_inventory(app: str) -> None:
    expected = json.loads((FIXTURES / app / "expected.json").read_text())
    found = inventory(FIXTURES / app)
    rows = sorted([e.kind, e.method, e.path, e.auth, e.framework, e.file] for e in found.endpoints)
    assert rows == expected["endpoints"]
    assert sorted([u.file, u.fragment] for u in found.unresolved) == expected["unresolved"]


def test_rails_resources_expand_with_patch_and_put_and_filters() -> None:
    routes = auth_by_route(FIXTURES / "rails")
    # except: [:destroy], param: :sku, api_only drops new/edit
    assert ("DELETE", "/api/v1/products/{sku}") not in routes
    assert ("GET", "/api/v1/products/new") not in routes
    assert routes[("PATCH", "/api/v1/products/{sku}")] == "required"
    assert routes[("PUT", "/api/v1/products/{sku}")] == "required"
    # before_action :authenticate_user!, except: [...] in an inherited base controller
    assert routes[("GET", "/api/v1/products/search")] == "optional"
    assert routes[("POST", "/api/v1/products/{sku}/publish")] == "required"
    # skip_before_action in the subclass
    assert routes[("GET", "/api/v1/products/{sku}/stats")] == "optional"
    # nested resources use the parent's param, singular resource has no id
    assert routes[("POST", "/api/v1/products/{product_sku}/reviews")] == "required"
    assert routes[("GET", "/api/v1/cart")] == "optional"
    # shallow nesting: members leave the parent
    assert ("GET", "/api/v1/shipments/{id}") in routes
    assert routes[("GET", "/")] == "none"  # skip_before_action of the optional filter


def test_rails_controller_outside_repository_is_unknown_auth() -> None:
    routes = auth_by_route(FIXTURES / "rails")
    assert routes[("GET", "/webhooks/{provider}")] == "unknown"
    assert routes[("POST", "/webhooks/{provider}")] == "unknown"


def test_unknown_engine_mount_is_unresolved(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "routes.rb").write_text(
        "Rails.application.routes.draw do\n  mount Blorgh::Engine, at: '/blog'\nend\n"
    )
    found = inventory(tmp_path)
    assert found.endpoints == []
    assert [(u.fragment, u.line) for u in found.unresolved] == [("/blog/*", 2)]


def test_grape_mounted_in_rails_gets_the_mount_path(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "routes.rb").write_text(
        "Rails.application.routes.draw do\n  mount Api::Base => '/gateway'\nend\n"
    )
    (tmp_path / "base.rb").write_text(
        "module Api\n  class Base < Grape::API\n    version 'v1', using: :header\n"
        "    namespace :pets do\n      get ':id' do\n      end\n    end\n  end\nend\n"
    )
    found = inventory(tmp_path)
    assert [(e.method, e.path, e.framework) for e in found.endpoints] == [
        ("GET", "/gateway/pets/{id}", "grape")
    ]


def test_sinatra_before_filter_and_rackup_map() -> None:
    routes = auth_by_route(FIXTURES / "sinatra")
    assert routes == {
        ("GET", "/notes"): "none",
        ("POST", "/notes"): "required",
        ("DELETE", "/notes/admin/{id}"): "required",
    }


def test_hanami1_namespaces_mount_and_action_callbacks(tmp_path: Path) -> None:
    api = tmp_path / "apps" / "api"
    (api / "config").mkdir(parents=True)
    (api / "controllers" / "books").mkdir(parents=True)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "environment.rb").write_text(
        "Hanami.configure do\n  mount Api::Application, at: '/api'\nend\n"
    )
    (api / "config" / "routes.rb").write_text(
        "namespace 'books' do\n  get '/', to: 'books#index'\n  post '/', to: 'books#create'\nend\n"
    )
    (api / "application.rb").write_text(
        "module Api\n  class Application < Hanami::Application\n    configure do\n"
        "      controller.prepare do\n        include Api::Authentication\n      end\n"
        "    end\n  end\nend\n"
    )
    (api / "authentication.rb").write_text(
        "module Api\n  module Authentication\n    def self.included(action)\n"
        "      action.class_eval do\n        before :authenticate!\n      end\n    end\n\n"
        "    def authenticate!\n      halt 401 unless current_user\n    end\n  end\nend\n"
    )
    action = (
        "module Api\n  module Controllers\n    module Books\n      class {name}\n"
        "{body}      end\n    end\n  end\nend\n"
    )
    (api / "controllers" / "books" / "index.rb").write_text(
        action.format(name="Index", body="        def authenticate!\n        end\n")
    )
    (api / "controllers" / "books" / "create.rb").write_text(action.format(name="Create", body=""))
    assert auth_by_route(tmp_path) == {
        ("GET", "/api/books"): "none",  # the callback is redefined as a no-op
        ("POST", "/api/books"): "required",
    }


PLURAL = {
    "index": [("GET", "")],
    "create": [("POST", "")],
    "new": [("GET", "/new")],
    "edit": [("GET", "/{id}/edit")],
    "show": [("GET", "/{id}")],
    "update": [("PATCH", "/{id}"), ("PUT", "/{id}")],
    "destroy": [("DELETE", "/{id}")],
}


@settings(max_examples=40, deadline=None)
@given(
    only=st.sets(st.sampled_from(sorted(PLURAL)), min_size=1),
    name=st.from_regex(r"[a-z]{3,8}s", fullmatch=True),
    scope=st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)
def test_resources_only_expands_to_exactly_the_rails_routes(
    tmp_path_factory: pytest.TempPathFactory, only: set[str], name: str, scope: str
) -> None:
    root = tmp_path_factory.mktemp("rails")
    (root / "config").mkdir()
    actions = ", ".join(f":{a}" for a in sorted(only))
    (root / "config" / "routes.rb").write_text(
        f"Rails.application.routes.draw do\n  scope :{scope} do\n"
        f"    resources :{name}, only: [{actions}]\n  end\nend\n"
    )
    found = {(e.method, e.path) for e in inventory(root).endpoints}
    expected = {(m, f"/{scope}/{name}{suffix}") for a in only for m, suffix in PLURAL[a]}
    assert found == expected


def test_sinatra_apps_mounted_by_rails_routes_and_urlmap(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "routes.rb").write_text(
        "Rails.application.routes.draw do\n  mount HooksApp => '/hooks'\nend\n"
    )
    (tmp_path / "hooks.rb").write_text(
        "class HooksApp < Sinatra::Base\n  post '/github' do\n  end\nend\n"
    )
    (tmp_path / "status.rb").write_text(
        "class StatusApp < Sinatra::Application\n  get '/ping' do\n  end\nend\n"
    )
    (tmp_path / "config.ru").write_text("run Rack::URLMap.new('/status' => StatusApp)\n")
    found = {(e.method, e.path, e.framework) for e in inventory(tmp_path).endpoints}
    assert found == {("POST", "/hooks/github", "sinatra"), ("GET", "/status/ping", "sinatra")}


def test_devise_authenticate_block_requires_sign_in(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "routes.rb").write_text(
        "Rails.application.routes.draw do\n  authenticate :user do\n"
        "    resources :invoices, only: [:index]\n  end\n"
        "  get 'pricing', to: 'pages#pricing'\nend\n"
    )
    assert auth_by_route(tmp_path) == {
        ("GET", "/invoices"): "required",
        ("GET", "/pricing"): "unknown",  # PagesController is not in the repository
    }
