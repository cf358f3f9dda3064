"""The `rapport` command: serve, worker, scheduler, mail-listen, mail-poll, migrate, demo, token create,
app-password create, createsuperuser, manage."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from typing import Any

from rapport.env import ConfigurationError, env_int


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django

    django.setup()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Migrate the database and collect static files."""
    _django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    call_command("collectstatic", interactive=False, verbosity=0)
    print("Database is up to date.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _django()
    from rapport.demo import DemoConflict, demo_exists, demo_logins, load_demo

    if demo_exists():
        # Loading twice would duplicate every record and reset the demo passwords.
        print("Demo data is already loaded.")
        print(demo_logins())
        return 0
    try:
        load_demo(progress=True)
    except DemoConflict as exc:
        print(f"rapport demo: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Fill an empty database with the benchmark data set."""
    _django()
    from rapport.directory.models import Account
    from rapport.seed import seed

    if Account.objects.exists():
        print("rapport seed fills an empty database; this one already has accounts. "
              "Point DATABASE_URL at a new database.", file=sys.stderr)
        return 2
    seed(args.size, progress=not args.quiet)
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    _django()
    from rapport.core.models import User
    from rapport.core.services import token_create

    user = User.objects.filter(username=args.username).first()
    if user is None:
        print(f"No user named {args.username!r}.", file=sys.stderr)
        return 2
    new = token_create(user=user, name=args.name)
    print(f"Created token {new.token.name!r} for {user.username}. It is shown once; keep it safe:")
    print(new.plaintext)
    return 0


def cmd_app_password_create(args: argparse.Namespace) -> int:
    """An app password for a user's calendar and contact client on one device, printed once."""
    _django()
    from django.core.exceptions import ValidationError

    from rapport.core.models import User
    from rapport.core.record_views import error_text
    from rapport.sync.services import app_password_create

    user = User.objects.filter(username=args.username).first()
    if user is None:
        print(f"No user named {args.username!r}.", file=sys.stderr)
        return 2
    try:
        new = app_password_create(user=user, device=args.device)
    except ValidationError as exc:
        print(f"rapport app-password: {error_text(exc)}", file=sys.stderr)
        return 2
    print(f"Created an app password for {user.username} on {new.app_password.device!r}. The calendar or contact "
          f"app signs in with the username {user.username!r} and this password; the server address is on the "
          "page Settings, Calendar and contacts sync.")
    print("It is shown once; keep it safe:")
    print(new.plaintext)
    return 0


def cmd_createsuperuser(args: argparse.Namespace) -> int:
    return cmd_manage(argparse.Namespace(rest=["createsuperuser", *args.rest]))


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rapport manage", *args.rest])
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the background job worker (django-tasks database backend)."""
    _django()
    from django.core.management import call_command

    options: dict[str, Any] = {"interval": args.interval}
    if args.batch:
        options["batch"] = True
    call_command("db_worker", **options)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Enqueue the periodic jobs (mail delivery retries, rule sweeps) until stopped."""
    _django()
    import threading

    from rapport.core import scheduler

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Rapport scheduler: {', '.join(sorted(scheduler.periodic_jobs())) or 'no jobs'}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        scheduler.run(stop)
    return 0


def cmd_search_reindex(args: argparse.Namespace) -> int:
    """Rebuild the search index (after a restore from backup, or a bulk load that went around it)."""
    _django()
    from django.core.management import CommandError, call_command

    try:
        call_command("search_reindex", types=args.types, quiet=args.quiet)
    except CommandError as exc:
        print(f"rapport search-reindex: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_mail_listen(args: argparse.Namespace) -> int:
    """Accept mail for the users' logging addresses and the support address until stopped."""
    _django()
    import threading

    from django.conf import settings

    from rapport.mail.listener import parse_listen, serve

    try:
        host, port = parse_listen(settings.RAPPORT_MAIL_LISTEN)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    host = args.host or host
    port = args.port if args.port is not None else port
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Rapport mail listener on {host}:{port} (logging addresses log-…@{settings.RAPPORT_MAIL_DOMAIN}, "
          f"support {settings.RAPPORT_SUPPORT_ADDRESS})", flush=True)
    try:
        serve(host, port, stop)
    except OSError as exc:
        print(f"rapport mail-listen: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def cmd_mail_poll(args: argparse.Namespace) -> int:
    """Log the unseen mail of RAPPORT_IMAP_URL: once, or every --interval seconds until stopped."""
    _django()
    import imaplib
    import threading

    from django.conf import settings

    from rapport.mail.imap import ImapConfigError, poll_once

    if not settings.RAPPORT_IMAP_URL:
        print("rapport mail-poll: RAPPORT_IMAP_URL is not set (imaps://user:password@host:993/INBOX).",
              file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.is_set():
            try:
                print(poll_once(), flush=True)
            except ImapConfigError as exc:
                print(f"rapport mail-poll: {exc}", file=sys.stderr)
                return 2
            except (imaplib.IMAP4.error, OSError) as exc:
                print(f"rapport mail-poll: the mailbox could not be read: {exc}", file=sys.stderr, flush=True)
                if args.once:
                    return 1
            if args.once:
                return 0
            stop.wait(args.interval)
    return 0


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve with gunicorn; with --with-worker, also run the job worker and the scheduler beside it."""
    args.port = args.port if args.port is not None else env_int("PORT", 8000)
    args.workers = args.workers if args.workers is not None else env_int("WEB_CONCURRENCY", 2)
    args.threads = args.threads if args.threads is not None else env_int("RAPPORT_THREADS", 4)
    _django()
    from gunicorn.app.base import BaseApplication

    from rapport.wsgi import application

    helpers: list[subprocess.Popen] = []
    if args.with_worker:
        helpers = [subprocess.Popen([sys.executable, "-m", "rapport.cli", name])  # noqa: S603 - our own command
                   for name in ("worker", "scheduler", "mail-listen")]

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("accesslog", "-" if args.access_log else None)
            self.cfg.set("timeout", 60)

        def load(self) -> Any:
            return application

    print(f"Rapport is serving on http://{args.host}:{args.port}/", flush=True)
    try:
        Server().run()
    finally:
        for process in helpers:
            _stop(process)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport", description="Rapport CRM")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the web app with gunicorn")
    p.add_argument("--host", default=os.environ.get("RAPPORT_HOST", "127.0.0.1"))
    # Defaults from PORT, WEB_CONCURRENCY and RAPPORT_THREADS are read in cmd_serve, so that a bad
    # value there fails `rapport serve` only.
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--with-worker", action="store_true",
                   help="also run the background job worker, the scheduler and the mail listener")
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run the background job worker")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls of the queue")
    p.add_argument("--batch", action="store_true", help="drain the queue and exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("scheduler", help="enqueue periodic jobs (mail retries) for the worker")
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser("mail-listen", help="accept mail for logging addresses and the support address (SMTP)")
    p.add_argument("--host", default=None, help="address to listen on (default: from RAPPORT_MAIL_LISTEN)")
    p.add_argument("--port", type=int, default=None, help="port (default: from RAPPORT_MAIL_LISTEN)")
    p.set_defaults(func=cmd_mail_listen)

    p = sub.add_parser("mail-poll", help="log the unseen mail of the RAPPORT_IMAP_URL mailbox")
    p.add_argument("--once", action="store_true", help="poll once, print what was logged and exit")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between polls (default 60)")
    p.set_defaults(func=cmd_mail_poll)

    p = sub.add_parser("migrate", help="migrate the database and collect static files")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load the demo company")
    p.add_argument("--if-empty", action="store_true",
                   help="accepted for scripts; the demo is never loaded twice")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("seed", help="fill an empty database with the benchmark data set")
    p.add_argument("--size", choices=["small", "medium", "large"], default="small")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("search-reindex", help="rebuild the global search index from the records")
    p.add_argument("--type", dest="types", action="append", default=None, metavar="TYPE",
                   help="a record type to rebuild (contact, account, ...); repeat for several; default all")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_search_reindex)

    p = sub.add_parser("token", help="personal API tokens")
    token_sub = p.add_subparsers(dest="token_command", required=True)
    tp = token_sub.add_parser("create", help="create a token; it is printed alone on the last line")
    tp.add_argument("username")
    tp.add_argument("--name", default="command line")
    tp.set_defaults(func=cmd_token_create)

    p = sub.add_parser("app-password", help="app passwords for calendar and contact clients (CalDAV/CardDAV)")
    app_password_sub = p.add_subparsers(dest="app_password_command", required=True)
    ap = app_password_sub.add_parser("create", help="create an app password for one device; it is printed alone "
                                                   "on the last line")
    ap.add_argument("username")
    ap.add_argument("device", help="what it is for, such as \"Work laptop, Outlook\" or \"Phone\"")
    ap.set_defaults(func=cmd_app_password_create)

    p = sub.add_parser("createsuperuser", help="create an administrator")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_createsuperuser)

    p = sub.add_parser("manage", help="run a Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


PASS_THROUGH = {"manage": cmd_manage, "createsuperuser": cmd_createsuperuser}


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except ConfigurationError as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASS_THROUGH:
        # Everything after the sub-command belongs to Django, options included (--noinput, --username).
        return int(PASS_THROUGH[argv[0]](argparse.Namespace(rest=argv[1:])) or 0)
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
