"""``kapdecide serve``: the CDS Hooks 2.0 service (the ``service`` extra: Starlette and uvicorn)."""

from __future__ import annotations

import importlib.util
import sys

import click

from kapdecide.cli.common import open_cache, protocols_option
from kapdecide.cli.group import cli
from kapdecide.core.errors import InvalidInputError

#: The extra's modules: without them ``serve`` says how to install them (exit 2).
SERVICE_MODULES = ("starlette", "uvicorn", "jwt", "httpx")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
INSECURE_BANNER = """\
******************************************************************************
*  kapdecide serve --insecure-dev: NO AUTHENTICATION. Any caller on {host}
*  can send patient data and read the cards; CORS allows every origin.
*  For development on this machine only; never with real patient data.
******************************************************************************
"""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to listen on.")
@protocols_option()
@click.option("--config", "config_path", metavar="FILE", help="Service configuration (YAML or JSON; see README).")
@click.option(
    "--allow-fhir-fetch",
    is_flag=True,
    help="Read prefetch keys the client did not send from its fhirServer with its fhirAuthorization "
    "(default: no outbound connection).",
)
@click.option(
    "--insecure-dev",
    is_flag=True,
    help="Development only, on a loopback address: accept requests without a JWT and from any origin.",
)
def serve(
    host: str, port: int, protocols_dir: str | None, config_path: str | None, allow_fhir_fetch: bool, insecure_dev: bool
) -> int:
    """Run kapdecide as a CDS Hooks 2.0 service.

    Services for the patient-view, order-select and order-sign hooks (see README, "Run as a CDS
    Hooks service"). Needs the service extra: pip install 'kapdecide[service]'.

    Examples:

    \b
      kapdecide serve --config service.yaml --port 8080
      kapdecide serve --insecure-dev
    """
    missing = [m for m in SERVICE_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise InvalidInputError(
            f"kapdecide serve needs the service extra (missing: {', '.join(missing)})",
            hint="install it with: pip install 'kapdecide[service]'",
        )
    from kapdecide.core import clock
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols
    from kapdecide.service import create_app, load_config

    config = load_config(config_path)
    if insecure_dev and host not in _LOOPBACK:
        raise InvalidInputError(f"--insecure-dev listens on a loopback address only, not {host}")
    if not insecure_dev and (config.base_url is None or not config.issuers):
        raise InvalidInputError(
            "the service verifies every request's JWT: the --config file must give base_url and issuers",
            hint="see README 'Run as a CDS Hooks service'; for local development only, --insecure-dev",
        )
    try:
        clock.set_zone(clock.zone_named(config.timezone))
    except ValueError as exc:
        raise InvalidInputError(f"--config timezone: {exc}") from None
    loaded = load_protocols([protocols_dir or default_protocol_dir()], open_cache())
    app = create_app(config, loaded, allow_fhir_fetch=allow_fhir_fetch, insecure_dev=insecure_dev)
    if insecure_dev:
        sys.stderr.write(INSECURE_BANNER.format(host=host))
    sys.stderr.write(
        f"kapdecide serve: CDS Hooks on http://{host}:{port}/cds-services ({len(loaded)} protocol(s); "
        f"FHIR fetch {'on' if allow_fhir_fetch else 'off'}). Decision support for clinician review.\n"
    )
    sys.stderr.flush()
    import uvicorn

    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)
    return 0
