"""The dashboard's HTTP app: ``create_ui(dashboard, access)`` returns a Starlette app.

Pages are rendered on the server (Jinja2, autoescaped) from the page modules' facts; the only
scripts are the report's tooltips and :file:`assets/ui.js` (partial updates, the wall's
rotation), served from the package with the two stylesheets, so nothing is ever fetched from
elsewhere. Database reads run on Starlette's thread pool, never on the event loop.

Every action is a POST with the session's CSRF token. Its first POST answers with a page that
says what will happen and asks for a confirmation; only the confirming POST acts, then
redirects back (``303``) to the page that shows the result. Every response forbids framing and
scripts from elsewhere (a Content-Security-Policy) and is never cached.

:func:`with_ui` mounts the same app under a prefix of another ASGI app (``sameday serve --ui``).

The module is longer than most (about 690 lines): the routes, the access checks every one of them
goes through and the actions' confirmations are one table of what the dashboard answers; the
facts each page shows live in the page modules.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sameday.errors import NotFound, SamedayError, StoreUnavailable
from sameday.ui import alerts, experiments, lineage, models, morning, runs, snapshots
from sameday.ui.access import COOKIE, Access, Role, is_loopback
from sameday.ui.charts import duration_text
from sameday.ui.state import Dashboard

log = logging.getLogger("sameday.ui")

NAV = (
    ("", "Morning"),
    ("runs", "Pipelines and runs"),
    ("results", "Result sets"),
    ("experiments", "Experiments"),
    ("alerts", "Monitors and alerts"),
    ("models", "Models"),
    ("lineage", "Lineage"),
)
ASSETS = {
    "ui.css": ("sameday.ui", "text/css"),
    "ui.js": ("sameday.ui", "text/javascript"),
    "report.css": ("sameday.reports", "text/css"),
    "report.js": ("sameday.reports", "text/javascript"),
}
"""Every file the pages load, and the package that ships it."""
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
DONE = {
    "resume": "The resumed run has started; it shows below within seconds.",
    "rollback": "Rolled back: the snapshot below marked live is served now.",
    "stop": "Stopped and applied: the surface serves its default list again.",
    "conclude": "Concluded and applied: the winner's list is now the surface's default.",
    "mute": "Muted: incidents are still recorded, notifications wait until the mute ends.",
    "unmute": "Unmuted.",
    "promote": "Promoted: the alias below points at the chosen version now.",
    "model-rollback": "Rolled back: the alias below points at the version it pointed at before.",
}
"""What the page says after each action (``?done=KEY``)."""
MAX_FORM = 16_384
WALL_CYCLE = 20


def when(moment: datetime | None) -> str:
    """A time as ``2026-12-03 08:34 UTC`` (``-`` for none)."""
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def dur(seconds: float | None) -> str:
    """A duration for a table cell (``-`` for none)."""
    return "-" if seconds is None else duration_text(seconds)


def short(value: Any) -> str:
    """A spec value in one short line (plan diffs)."""
    text: str = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def pretty(value: Any) -> str:
    """A JSON value indented for reading (evidence)."""
    return json.dumps(value, indent=2, default=str, sort_keys=True)


def link_of(kind: str, name: str) -> str:
    """The page of an applied object."""
    pages = {"experiment": "experiments/", "result_set": "results/", "pipeline": "runs?pipeline="}
    return pages.get(kind, "lineage?node=" + kind + ":") + quote(name)


def environment() -> Environment:
    """The templates, autoescaped, with the helpers they use."""
    env = Environment(
        loader=PackageLoader("sameday.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        when=when,
        dur=dur,
        short=short,
        pretty=pretty,
        link_of=link_of,
        badges_of=experiments.badges,
        report_of=experiments.report_html,
    )
    return env


@dataclass(frozen=True)
class Visitor:
    """Who asks: their role, their session cookie, and whether it must be set on the answer."""

    role: Role
    cookie: str | None
    new: bool


@dataclass(frozen=True)
class Confirm:
    """The confirmation page of an action: what it will do, and the button that does it."""

    heading: str
    what: str
    button: str
    details: tuple[str, ...] = ()
    ask_reason: bool = False


Act = Callable[[Dashboard, Mapping[str, str], str], str]
"""An action: ``(dashboard, form, actor) -> the path to go to afterwards``."""
Ask = Callable[[Request, Mapping[str, str]], Confirm]
"""What an action's confirmation page says, given its form."""
Gather = Callable[[Request], dict[str, Any]]
"""A page's facts, read off the event loop, as the template's values."""
Endpoint = Callable[[Request], Awaitable[Response]]


def create_ui(dash: Dashboard, access: Access) -> Starlette:
    """The dashboard over ``dash``, opened by ``access``'s keys (see :mod:`sameday.ui.access`)."""
    env = environment()
    assets = {
        name: resources.files(package).joinpath("assets", name).read_bytes()
        for name, (package, _) in ASSETS.items()
    }

    def root_of(request: Request) -> str:
        root: str = request.scope.get("root_path", "")
        return root.rstrip("/") + "/"

    def back_of(request: Request) -> str:
        """Where "Back" and "Cancel" go: the referring page when it is one of ours."""
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc and referer.netloc == request.headers.get("host"):
            return referer.path + (f"?{referer.query}" if referer.query else "")
        return root_of(request)

    def visitor(request: Request) -> Visitor | None:
        cookie = request.cookies.get(COOKIE)
        role = access.role_of_session(cookie)
        if role is not None:
            return Visitor(role, cookie, False)
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer " and request.method == "GET":
            keyed = access.role_of_key(header[7:])
            if keyed is not None:
                return Visitor(keyed, None, False)
        if access.open:
            return Visitor("admin", access.new_session("admin"), True)
        return None

    def finish(response: Response, request: Request, who: Visitor | None) -> Response:
        response.headers.update(HEADERS)
        if who is not None and who.new and who.cookie is not None:
            response.set_cookie(
                COOKIE,
                who.cookie,
                path=root_of(request),
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    def render(
        request: Request, who: Visitor | None, template: str, status: int = 200, **values: Any
    ) -> Response:
        project = dash.project()
        context = {
            "root": root_of(request),
            "project": project.name,
            "nav": NAV,
            "active": values.pop("active", None),
            "admin": who is not None and who.role == "admin",
            "signed_in": who is not None and not access.open and who.cookie is not None,
            "csrf": access.csrf_token(who.cookie) if who and who.cookie else "",
            "problem": dash.problem,
            "refresh": values.pop("refresh", None),
            "wall": values.pop("wall", False),
            "title": values.pop("title"),
            "done": DONE.get(request.query_params.get("done", "")),
            **values,
        }
        compiled = env.get_template(template)
        if request.headers.get("x-partial") == "1" and "content" in compiled.blocks:
            html = "".join(compiled.blocks["content"](compiled.new_context(context)))
        else:
            html = compiled.render(context)
        return finish(HTMLResponse(html, status), request, who)

    def message(
        request: Request, who: Visitor | None, status: int, heading: str, text: str
    ) -> Response:
        return render(
            request, who, "message.html", status, title=heading, heading=heading, message=text,
            tone="bad" if status >= 400 else "good", back=back_of(request),
        )  # fmt: skip

    def refused(request: Request) -> Response | None:
        """Requests the dashboard never answers: a non-loopback Host when open to all (a DNS
        name pointed at 127.0.0.1 by another site), and a POST from another origin."""
        host = request.url.hostname or ""
        if access.open and not is_loopback(host):
            return finish(
                Response(
                    f"this dashboard has no key and answers only on localhost, not {host}",
                    403,
                ),
                request,
                None,
            )
        origin = request.headers.get("origin")
        foreign = origin not in (None, "null") and (
            str(origin).split("://", 1)[-1] != request.headers.get("host", "")
        )
        if request.method == "POST" and foreign:
            return finish(Response("cross-origin POST refused", 403), request, None)
        return None

    def page(
        template: str,
        gather: Gather,
        *,
        title: str,
        active: str | None = None,
        refresh: int | None = None,
        wall: bool = False,
    ) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            stop = refused(request)
            if stop is not None:
                return stop
            who = visitor(request)
            if who is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                login = root_of(request) + "login?" + urlencode({"next": target})
                return finish(RedirectResponse(login, 303), request, None)
            try:
                values = await run_in_threadpool(gather, request)
            except NotFound as exc:
                return message(request, who, 404, "Not found", str(exc))
            except StoreUnavailable as exc:
                return message(request, who, 503, "A store cannot be reached", str(exc))
            except SamedayError as exc:
                return message(request, who, 500, "This page cannot be shown", str(exc))
            return render(
                request, who, template, title=values.pop("title", title), active=active,
                refresh=refresh, wall=wall, **values,
            )  # fmt: skip

        return endpoint

    def action(act: Act, confirm: Ask) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            stop = refused(request)
            if stop is not None:
                return stop
            who = visitor(request)
            raw = await request.body()
            if len(raw) > MAX_FORM:
                return message(request, who, 413, "Too large", "the form is too large")
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            if who is None or who.cookie is None:
                return message(
                    request, None, 401, "Sign in first",
                    "actions need a session: open the dashboard and sign in with the admin key",
                )  # fmt: skip
            if not access.csrf_ok(who.cookie, form.get("csrf", "")):
                return message(
                    request, who, 403, "Refused",
                    "the form's CSRF token is missing or stale: reload the page and try again",
                )  # fmt: skip
            if who.role != "admin":
                return message(
                    request, who, 403, "Needs the admin key",
                    "this is a read-only session: sign out and sign in with the admin key",
                )  # fmt: skip
            if form.get("confirm") != "yes":
                asked = confirm(request, form)
                fields = [(k, v) for k, v in form.items() if k not in ("csrf", "confirm")]
                return render(
                    request, who, "confirm.html", title=asked.heading, heading=asked.heading,
                    what=asked.what, details=asked.details, button=asked.button,
                    ask_reason=asked.ask_reason and "reason" not in form, fields=fields,
                    action=request.url.path,
                    back=back_of(request),
                )  # fmt: skip
            actor = "dashboard (admin)"
            try:
                target = await run_in_threadpool(act, dash, form, actor)
            except NotFound as exc:
                return message(request, who, 404, "Not done", str(exc))
            except (SamedayError, ValueError) as exc:
                return message(request, who, 409, "Not done", str(exc))
            log.info("dashboard action %s %s", request.url.path, sorted(form))
            return finish(RedirectResponse(root_of(request) + target, 303), request, who)

        return endpoint

    # The pages.

    def gather_morning(request: Request) -> dict[str, Any]:
        return {"m": morning.morning(dash)}

    def gather_runs(request: Request) -> dict[str, Any]:
        q = request.query_params
        return {"page": runs.runs_page(dash, q.get("pipeline"), q.get("status"))}

    def gather_run(request: Request) -> dict[str, Any]:
        found = runs.run_page(dash, request.path_params["run"])
        return {"page": found, "title": f"Run {found.run.id}"}

    def gather_results(request: Request) -> dict[str, Any]:
        return {"rows": snapshots.result_sets(dash)}

    def gather_result_set(request: Request) -> dict[str, Any]:
        name = request.path_params["name"]
        return {"page": snapshots.result_set_page(dash, name), "title": name}

    def gather_diff(request: Request) -> dict[str, Any]:
        name, q = request.path_params["name"], request.query_params
        if not q.get("a") or not q.get("b"):
            raise NotFound("choose two snapshots to compare (?a=VERSION&b=VERSION)")
        return {"d": snapshots.diff(dash, name, q["a"], q["b"]), "title": f"{name}: diff"}

    def gather_experiments(request: Request) -> dict[str, Any]:
        phase = request.query_params.get("phase") or None
        return {"rows": experiments.experiments_page(dash, phase), "phase": phase}

    def gather_experiment(request: Request) -> dict[str, Any]:
        name = request.path_params["name"]
        found = experiments.experiment_page(dash, name)
        return {"page": found, "title": name, "built": found.built, "report": found.report,
                "name": name}  # fmt: skip

    def gather_wall(request: Request) -> dict[str, Any]:
        index = request.query_params.get("i", "0")
        found = experiments.wall(dash, int(index) if index.isdigit() else 0)
        return {"slide": found, "cycle": WALL_CYCLE}

    def gather_alerts(request: Request) -> dict[str, Any]:
        return {"page": alerts.alerts_page(dash), "durations": list(alerts.DURATIONS)}

    def gather_incident(request: Request) -> dict[str, Any]:
        try:
            number = int(request.path_params["incident"])
        except ValueError:
            raise NotFound(f"no incident {request.path_params['incident']!r}") from None
        found = alerts.incident_page(dash, number)
        evidence = json.dumps(found.incident.evidence, indent=2, default=str, sort_keys=True)
        return {"page": found, "evidence": evidence, "title": f"Incident {number}"}

    def gather_lineage(request: Request) -> dict[str, Any]:
        q = request.query_params
        depth = int(q["depth"]) if q.get("depth", "").isdigit() else 2
        link = root_of(request) + "lineage?node="
        return {
            "page": lineage.lineage_page(dash, q.get("node") or None, depth, link),
            "depths": lineage.DEPTHS,
            "colours": list(lineage.KIND_COLOURS.items()),
        }

    def gather_models(request: Request) -> dict[str, Any]:
        return {"rows": models.models_page(dash)}

    def gather_model(request: Request) -> dict[str, Any]:
        name = request.path_params["name"]
        return {"page": models.model_page(dash, name), "title": name}

    async def report_fragment(request: Request) -> Response:
        stop = refused(request)
        if stop is not None:
            return stop
        who = visitor(request)
        if who is None:
            return finish(Response("sign in first", 401), request, None)
        name = request.path_params["name"]
        built = await run_in_threadpool(experiments.report_fragment, dash, name)
        report = (
            experiments.report_html(built.value)
            if built is not None and built.value is not None
            else None
        )
        html = env.get_template("report_fragment.html").render(
            root=root_of(request), name=name, built=built, report=report, when=when
        )
        return finish(HTMLResponse(html), request, who)

    # The actions.

    def resume_endpoint() -> Endpoint:
        async def endpoint(request: Request) -> Response:
            run_id = request.path_params["run"]

            def act(d: Dashboard, form: Mapping[str, str], actor: str) -> str:
                runs.resume(d, run_id)
                record = d.meta.get_run(run_id)
                return f"runs?pipeline={quote(record.pipeline)}&done=resume"

            def ask(request: Request, form: Mapping[str, str]) -> Confirm:
                return Confirm(
                    f"Resume run {run_id}?",
                    f"The jobs of run {run_id} that did not succeed run again, as a new run "
                    f"(sameday run --resume {run_id}); jobs that succeeded are skipped.",
                    "Resume the run",
                )

            return await action(act, ask)(request)

        return endpoint

    def rollback_endpoint() -> Endpoint:
        async def endpoint(request: Request) -> Response:
            name = request.path_params["name"]

            def act(d: Dashboard, form: Mapping[str, str], actor: str) -> str:
                snapshots.roll_back(
                    d, name, form.get("to") or None, actor=actor, reason=form.get("reason")
                )
                return f"results/{quote(name)}?done=rollback"

            def ask(request: Request, form: Mapping[str, str]) -> Confirm:
                to = form.get("to")
                target = f"snapshot {to}" if to else "the snapshot live before the current one"
                return Confirm(
                    f"Roll {name} back?",
                    f"Every server serves {target} for {name} within its refresh interval; "
                    "the change is recorded in what was live when, and can itself be rolled "
                    "back.",
                    "Roll back",
                    ask_reason=True,
                )

            return await action(act, ask)(request)

        return endpoint

    def phase_endpoint(phase: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            name = request.path_params["name"]

            def act(d: Dashboard, form: Mapping[str, str], actor: str) -> str:
                experiments.change_phase(
                    d, name, phase, form.get("winner") if phase == "concluded" else None
                )
                return (
                    f"experiments/{quote(name)}?done={'stop' if phase == 'stopped' else 'conclude'}"
                )

            def ask(request: Request, form: Mapping[str, str]) -> Confirm:
                if phase == "stopped":
                    return Confirm(
                        f"Stop {name}?",
                        f"{name} stops assigning units: its surface serves its default list "
                        "again. The experiment's file gets 'phase: stopped' and the project is "
                        "applied.",
                        "Stop the test",
                        ("A stopped test may run again later (phase: running).",),
                    )
                winner = form.get("winner", "")
                return Confirm(
                    f"Conclude {name} with {winner} as the winner?",
                    f"The file of {name} gets 'phase: concluded' and 'winner: {winner}', and the "
                    f"project is applied: {winner}'s list becomes the surface's default.",
                    f"Conclude: {winner} wins",
                    ("A concluded test cannot run again.",),
                )

            return await action(act, ask)(request)

        return endpoint

    def act_mute(d: Dashboard, form: Mapping[str, str], actor: str) -> str:
        alerts.mute(
            d, form.get("name", ""), form.get("subject"), form.get("duration", ""),
            form.get("reason"), actor=actor,
        )  # fmt: skip
        return "alerts?done=mute"

    def ask_mute(request: Request, form: Mapping[str, str]) -> Confirm:
        what = form.get("name", "") + (f" on {form['subject']}" if form.get("subject") else "")
        return Confirm(
            f"Mute {what} for {form.get('duration', '')}?",
            f"Notifications of {what} are held back for {form.get('duration', '')}; incidents are "
            "still recorded and shown here, and one still open when the mute ends is sent then.",
            "Mute",
            ask_reason=True,
        )

    def act_unmute(d: Dashboard, form: Mapping[str, str], actor: str) -> str:
        alerts.unmute(d, form.get("name", ""), form.get("subject"))
        return "alerts?done=unmute"

    def ask_unmute(request: Request, form: Mapping[str, str]) -> Confirm:
        what = form.get("name", "") + (f" on {form['subject']}" if form.get("subject") else "")
        return Confirm(
            f"Unmute {what}?", f"Notifications of {what} are sent again from now on.", "Unmute"
        )

    def model_endpoint(move: str) -> Endpoint:
        """Promote a version of a model (``move="promote"``) or roll an alias back."""

        async def endpoint(request: Request) -> Response:
            name = request.path_params["name"]

            def act(d: Dashboard, form: Mapping[str, str], actor: str) -> str:
                alias, reason = form.get("alias") or None, form.get("reason")
                if move == "promote":
                    models.promote(d, name, form.get("version", ""), alias, actor=actor,
                                   reason=reason)  # fmt: skip
                else:
                    models.roll_back(d, name, alias, actor=actor, reason=reason)
                return (
                    f"models/{quote(name)}?done={move if move == 'promote' else 'model-rollback'}"
                )

            def ask(request: Request, form: Mapping[str, str]) -> Confirm:
                alias = form.get("alias") or models.DEFAULT_ALIAS
                after = (
                    f"Whatever loads {name}@{alias} (online scorers, jobs calling load_model) "
                    "gets that version from its next load; the move is recorded in the model's "
                    "history and can itself be rolled back."
                )
                if move == "promote":
                    version = form.get("version", "")
                    return Confirm(
                        f"Make {name}/{version} the {alias}?",
                        f"{name}@{alias} will point at version {version} "
                        f"(sameday models promote {name}/{version} --to {alias}). {after}",
                        f"Promote {name}/{version}",
                        ask_reason=True,
                    )
                return Confirm(
                    f"Roll {name}@{alias} back?",
                    f"{name}@{alias} will point at the version it pointed at before its latest "
                    f"move (sameday models rollback {name} --alias {alias}). {after}",
                    "Roll back",
                    ask_reason=True,
                )

            return await action(act, ask)(request)

        return endpoint

    # Sessions.

    async def login(request: Request) -> Response:
        stop = refused(request)
        if stop is not None:
            return stop
        target = request.query_params.get("next", root_of(request))
        wrong = False
        if request.method == "POST":
            raw = await request.body()
            form = {k: v[0] for k, v in parse_qs(raw[:MAX_FORM].decode("utf-8", "replace")).items()}
            target = form.get("next", root_of(request))
            role = access.role_of_key(form.get("key", ""))
            if role is not None:
                local = target.startswith("/") and not target.startswith(("//", "/\\"))
                safe = target if local and "\\" not in target else root_of(request)
                who = Visitor(role, access.new_session(role), True)
                return finish(RedirectResponse(safe, 303), request, who)
            wrong = True
        if access.open:
            return finish(RedirectResponse(root_of(request), 303), request, None)
        return render(
            request, None, "login.html", 401 if wrong else 200, title="Sign in", wrong=wrong,
            next=target,
        )  # fmt: skip

    async def logout(request: Request) -> Response:
        who = visitor(request)
        raw = await request.body()
        form = {k: v[0] for k, v in parse_qs(raw[:MAX_FORM].decode("utf-8", "replace")).items()}
        if (
            who is None
            or who.cookie is None
            or not access.csrf_ok(who.cookie, form.get("csrf", ""))
        ):
            return message(request, who, 403, "Refused", "reload the page and try again")
        response = RedirectResponse(root_of(request) + "login", 303)
        response.delete_cookie(COOKIE, path=root_of(request))
        return finish(response, request, None)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return Response("no such asset", 404)
        response = Response(assets[name], media_type=ASSETS[name][1])
        response.headers.update(HEADERS)
        response.headers["Cache-Control"] = "max-age=3600"
        return response

    pages = [
        ("/", "morning.html", gather_morning, "Morning", "", 60),
        ("/runs", "runs.html", gather_runs, "Pipelines and runs", "runs", 30),
        ("/runs/{run}", "run.html", gather_run, "Run", "runs", None),
        ("/results", "results.html", gather_results, "Result sets", "results", None),
        ("/results/{name}", "result_set.html", gather_result_set, "Result set", "results", None),
        ("/results/{name}/diff", "diff.html", gather_diff, "Diff", "results", None),
        ("/experiments", "experiments.html", gather_experiments, "Experiments", "experiments", 60),
        ("/experiments/{name}", "experiment.html", gather_experiment, "Experiment", "experiments",
         None),
        ("/alerts", "alerts.html", gather_alerts, "Monitors and alerts", "alerts", None),
        ("/alerts/{incident}", "incident.html", gather_incident, "Incident", "alerts", None),
        ("/models", "models.html", gather_models, "Models", "models", None),
        ("/models/{name}", "model.html", gather_model, "Model", "models", None),
        ("/lineage", "lineage.html", gather_lineage, "Lineage", "lineage", None),
    ]  # fmt: skip
    routes = [
        Route(path, page(template, gather, title=title, active=active, refresh=refresh))
        for path, template, gather, title, active, refresh in pages
    ]
    routes += [
        Route("/wall", page("wall.html", gather_wall, title="Wall", wall=True)),
        Route("/runs/{run}/resume", resume_endpoint(), methods=["POST"]),
        Route("/results/{name}/rollback", rollback_endpoint(), methods=["POST"]),
        Route("/experiments/{name}/report", report_fragment),
        Route("/experiments/{name}/stop", phase_endpoint("stopped"), methods=["POST"]),
        Route("/experiments/{name}/conclude", phase_endpoint("concluded"), methods=["POST"]),
        Route("/alerts/mute", action(act_mute, ask_mute), methods=["POST"]),
        Route("/alerts/unmute", action(act_unmute, ask_unmute), methods=["POST"]),
        Route("/models/{name}/promote", model_endpoint("promote"), methods=["POST"]),
        Route("/models/{name}/rollback", model_endpoint("rollback"), methods=["POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/assets/{name}", asset),
    ]

    async def crashed(request: Request, exc: Exception) -> Response:
        # Starlette answers with this, then re-raises: the traceback goes to the server's log.
        text = (
            f"unexpected {type(exc).__name__}: this is a bug in sameday; the dashboard's log "
            "has the traceback (please report it)"
        )
        return finish(HTMLResponse(f"<!DOCTYPE html><title>Error</title><p>{text}</p>", 500),
                      request, None)  # fmt: skip

    return Starlette(routes=routes, exception_handlers={Exception: crashed})


def with_ui(api: ASGIApp, ui: ASGIApp, prefix: str = "/ui") -> ASGIApp:
    """``api`` with ``ui`` answering every path under ``prefix`` (``/ui`` redirects to
    ``/ui/``); lifespan events go to ``api`` alone."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == prefix or path.startswith(prefix + "/")):
            if path == prefix:
                await RedirectResponse(prefix + "/", 307)(scope, receive, send)
                return
            child = dict(scope)
            child["root_path"] = scope.get("root_path", "") + prefix
            await ui(child, receive, send)
            return
        await api(scope, receive, send)

    return app
