"""A real Prometheus server for integration tests (Debian package `prometheus`, /usr/bin/prometheus;
override with $PROMETHEUS_BIN).

    with Prometheus(scrape_targets=["127.0.0.1:8889"]) as prom:      # scrape every second
        rows = prom.wait_query('sum by (team) (cost_total)', lambda r: len(r) == 2, timeout=30)
    with Prometheus(remote_write_receiver=True) as prom:             # POST to prom.remote_write_url
        ...

It listens on 127.0.0.1 only (a free port), keeps its TSDB and config in a temporary directory
that is removed on stop, and is stopped (SIGTERM, then SIGKILL after 10 s) when the `with` block
ends or stop() is called, whatever happened. Every wait is bounded. Standard library only."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PROMETHEUS_BIN = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def available():
    """True when a Prometheus binary is installed (tests skip with a message otherwise)."""
    return os.access(PROMETHEUS_BIN, os.X_OK)


class PrometheusError(Exception):
    pass


class Prometheus:
    """scrape_targets: list of "host:port" (one job "genops"), or dict job_name -> list of
    targets, or job_name -> {"targets": [...], "scheme": "https", "ca_file": path,
    "server_name": name} for a TLS target.
    scrape_interval: also the evaluation interval. honor_labels: keep the job/instance labels of
    the scraped series (Prometheus' default renames them exported_job/exported_instance).
    remote_write_receiver: enable POST /api/v1/write. extra_args: more command line flags.
    metrics_path: path scraped on every target."""

    def __init__(self, scrape_targets=None, scrape_interval="1s", remote_write_receiver=False,
                 honor_labels=False, extra_args=None, metrics_path="/metrics"):
        if isinstance(scrape_targets, (list, tuple)):
            scrape_targets = {"genops": list(scrape_targets)}
        self.scrape_targets = scrape_targets or {}
        self.scrape_interval = scrape_interval
        self.remote_write_receiver = remote_write_receiver
        self.honor_labels = honor_labels
        self.extra_args = list(extra_args or [])
        self.metrics_path = metrics_path
        self.port = None
        self.dir = None
        self.proc = None
        self.log_path = None

    # ---- lifecycle ------------------------------------------------------------------------

    def config_text(self):
        lines = ["global:",
                 f"  scrape_interval: {self.scrape_interval}",
                 f"  evaluation_interval: {self.scrape_interval}",
                 "scrape_configs:"]
        if not self.scrape_targets:
            lines[-1] = "scrape_configs: []"
        for job, spec in self.scrape_targets.items():
            if not isinstance(spec, dict):
                spec = {"targets": list(spec)}
            lines += [f"  - job_name: {json.dumps(job)}",
                      f"    scrape_interval: {self.scrape_interval}",
                      f"    scrape_timeout: {self.scrape_interval}",
                      f"    metrics_path: {json.dumps(self.metrics_path)}",
                      f"    honor_labels: {'true' if self.honor_labels else 'false'}",
                      f"    scheme: {spec.get('scheme', 'http')}"]
            if spec.get("ca_file") or spec.get("server_name"):
                lines.append("    tls_config:")
                if spec.get("ca_file"):
                    lines.append(f"      ca_file: {json.dumps(spec['ca_file'])}")
                if spec.get("server_name"):
                    lines.append(f"      server_name: {json.dumps(spec['server_name'])}")
            lines += ["    static_configs:",
                      f"      - targets: {json.dumps(list(spec['targets']))}"]
        return "\n".join(lines) + "\n"

    def start(self, timeout=30):
        if not available():
            raise PrometheusError(f"{PROMETHEUS_BIN} not found (install the prometheus package)")
        self.dir = tempfile.mkdtemp(prefix="genops-prom-")
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(self.config_text())
        self.port = free_port()
        args = [PROMETHEUS_BIN,
                f"--config.file={cfg}",
                f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn"]
        if self.remote_write_receiver:
            args.append("--web.enable-remote-write-receiver")
        args += self.extra_args
        self.log_path = os.path.join(self.dir, "prometheus.log")
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         cwd=self.dir)
        finally:
            log.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise PrometheusError(f"prometheus exited with {self.proc.returncode}:\n"
                                      + self.log())
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise PrometheusError("prometheus not ready in %ss:\n%s" % (timeout, self.log()))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except (OSError, TypeError):
            return ""

    # ---- HTTP API -------------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def remote_write_url(self):
        return self.url + "/api/v1/write"

    def api(self, path, params=None, timeout=5):
        """GET /api/v1/<path>; returns the "data" member (raises PrometheusError on failure)."""
        q = ("?" + urllib.parse.urlencode(params)) if params else ""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}{q}", timeout=timeout) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            raise PrometheusError(f"{path}: HTTP {e.code}: {e.read()[:500]!r}")
        if body.get("status") != "success":
            raise PrometheusError(f"{path}: {body}")
        return body["data"]

    def query(self, expr, at=None):
        """Instant query: list of (labels dict, float value) for a vector, [(None, v)] for a
        scalar."""
        params = {"query": expr}
        if at is not None:
            params["time"] = str(at)
        data = self.api("query", params)
        if data["resultType"] == "vector":
            return [(r["metric"], float(r["value"][1])) for r in data["result"]]
        if data["resultType"] == "scalar":
            return [(None, float(data["result"][1]))]
        return data["result"]

    def wait_query(self, expr, pred=lambda rows: bool(rows), timeout=30, interval=0.25):
        """Re-runs expr until pred(rows) is true; returns rows. Raises on timeout with the last
        result."""
        end = time.monotonic() + timeout
        rows = None
        while True:
            try:
                rows = self.query(expr)
                if pred(rows):
                    return rows
            except PrometheusError:
                pass
            if time.monotonic() >= end:
                raise PrometheusError(f"timed out after {timeout}s waiting for {expr!r}; "
                                      f"last result: {rows!r}")
            if self.proc is not None and self.proc.poll() is not None:
                raise PrometheusError("prometheus exited:\n" + self.log())
            time.sleep(interval)

    def targets(self):
        """Active scrape targets: list of dicts with scrapeUrl, health, lastError, labels."""
        return self.api("targets")["activeTargets"]

    def wait_targets_up(self, timeout=30):
        """Waits until every configured target was scraped successfully; returns them."""
        want = sum(len(t["targets"] if isinstance(t, dict) else t)
                   for t in self.scrape_targets.values())
        end = time.monotonic() + timeout
        ts = []
        while time.monotonic() < end:
            ts = self.targets()
            if len(ts) == want and all(t["health"] == "up" for t in ts):
                return ts
            time.sleep(0.25)
        raise PrometheusError(f"targets not up in {timeout}s: "
                              + "; ".join(f"{t['scrapeUrl']}: {t['health']} {t['lastError']}"
                                          for t in ts))
