"""Build the SAM application and check each function against Lambda's 250 MB unzipped limit.

Inputs:  template.yaml, functions/*/, layers/*/ (the model layer as it is on disk).
Outputs: build/sam/ (the `sam build` output, also what `sam deploy` ships),
         build/reports/package_size.json, and a table on stdout:

    function               code MB  layers MB  total MB  limit MB  headroom MB
    GenerateFunction          0.00     179.86    179.87     250.0        70.13

Lambda counts a function's code plus every layer it uses, unzipped, against 262,144,000 bytes
(250 MiB; "MB" below means MiB, as in the Lambda quotas page). Exit status: 0 when every
function fits, 1 when one does not, 2 when the build fails or a folder cannot be measured.

    .venv/bin/python scripts/check_package.py               # build (cached) and measure
    .venv/bin/python scripts/check_package.py --skip-build  # measure the existing build/sam
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


@dataclass
class Config:
    template: Path = ROOT / "template.yaml"  # the SAM template to build
    build_dir: Path = ROOT / "build" / "sam"  # `sam build --build-dir`; samconfig.toml deploys from here too
    report_path: Path = ROOT / "build" / "reports" / "package_size.json"
    sam: str = ""  # the sam executable; empty: .venv-tools/bin/sam, then PATH
    limit_mb: float = 250.0  # Lambda's unzipped limit for code plus layers, in MiB
    skip_build: bool = False  # measure what is already in build_dir
    cached: bool = True  # `sam build --cached`: pip runs only when a requirements file changes
    parallel: bool = True  # `sam build --parallel`: functions and layers side by side


class PackageCheckError(RuntimeError):
    """The build or the measurement could not be done (not: a function is too big)."""


# --------------------------------------------------------------------------------------------------
# Template reading: a SafeLoader that accepts CloudFormation's short tags (!Ref, !Sub, ...) and keeps
# them as {"Ref": ...} / {"Fn::Sub": ...}, so the plain YAML library reads template.yaml.
# --------------------------------------------------------------------------------------------------
class CfnLoader(yaml.SafeLoader):
    pass


def _construct_cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)  # !GetAtt A.B is the long form ["A", "B"]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CfnLoader)  # noqa: S506 (CfnLoader is a SafeLoader)


# --------------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------------
def find_sam(config: Config) -> str:
    candidates = [config.sam] if config.sam else [str(ROOT / ".venv-tools" / "bin" / "sam"), "sam"]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise PackageCheckError(
        f"the SAM CLI was not found (tried {', '.join(candidates)}); "
        "create it with: python3 -m venv .venv-tools && .venv-tools/bin/pip install -r requirements/tools.txt"
    )


def _runs(executable: str) -> bool:
    """A pyenv shim is on PATH even when its version is not selected; ask it to run."""
    try:
        return subprocess.run([executable, "-c", "import sys"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_runtime_python(runtime: str) -> Path:
    """The interpreter `sam build` needs for the template's runtime (python3.12 -> python3.12)."""
    name = runtime  # the runtime id is the interpreter name: python3.12
    found = shutil.which(name)
    if found and _runs(found):
        return Path(found).parent
    version = runtime.removeprefix("python")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted(pyenv_root.glob(f"versions/{version}.*/bin/{name}"), reverse=True):
        if _runs(str(candidate)):
            return candidate.parent
    raise PackageCheckError(
        f"`sam build` needs {name} (the template's Lambda runtime) on PATH and found none that runs; "
        f"install it, e.g. `pyenv install {version}` or `uv python install {version}`, or put its bin/ on PATH"
    )


def build_environment(sam: str, python_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # sam and lambda-builders run python3.X from PATH: the tools venv first (for its own entry points),
    # then the runtime's interpreter.
    env["PATH"] = os.pathsep.join([str(Path(sam).parent), str(python_dir), env.get("PATH", "")])
    env.setdefault("SAM_CLI_TELEMETRY", "0")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # sam build talks to no AWS API but wants a region
    return env


def run_sam_build(config: Config) -> float:
    """Run `sam build` without a container; return the seconds it took."""
    sam = find_sam(config)
    template = load_template(config.template)
    runtime = template.get("Globals", {}).get("Function", {}).get("Runtime", "python3.12")
    env = build_environment(sam, find_runtime_python(runtime))
    command = [sam, "build", "--template-file", str(config.template), "--build-dir", str(config.build_dir)]
    command += ["--cached"] if config.cached else []
    command += ["--parallel"] if config.parallel else []
    print("$ " + " ".join(command), flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=config.template.parent, env=env)
    if result.returncode != 0:
        raise PackageCheckError(f"sam build failed with exit status {result.returncode} (its output is above)")
    return time.monotonic() - started


# --------------------------------------------------------------------------------------------------
# Measure
# --------------------------------------------------------------------------------------------------
def tree_bytes(path: Path) -> int:
    """Sum of file sizes under path, as Lambda unzips them (links are not followed)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _local_dir(uri: Any, base: Path, what: str) -> Path:
    if not isinstance(uri, str) or uri.startswith("s3://"):
        raise PackageCheckError(f"{what}: expected a local folder in the built template, got {uri!r}")
    path = (base / uri).resolve()
    if not path.exists():
        raise PackageCheckError(f"{what}: {path} does not exist; run without --skip-build")
    return path


def _layer_ids(function: dict[str, Any], globals_function: dict[str, Any]) -> list[str]:
    """Logical ids of the template's layers that a function uses (Globals first, as SAM merges them)."""
    refs = list(globals_function.get("Layers", [])) + list(function.get("Properties", {}).get("Layers", []))
    ids = []
    for ref in refs:
        if isinstance(ref, dict) and "Ref" in ref:
            ids.append(ref["Ref"])
        else:
            raise PackageCheckError(f"layer {ref!r} is not a layer of this template; its size cannot be measured here")
    return ids


def measure(build_dir: Path, *, limit_mb: float) -> dict[str, Any]:
    """Unzipped sizes of each function and its layers, from the built template in build_dir."""
    built = build_dir / "template.yaml"
    if not built.exists():
        raise PackageCheckError(f"{built} does not exist; run without --skip-build")
    template = load_template(built)
    resources = template.get("Resources", {})
    globals_function = template.get("Globals", {}).get("Function", {})
    layer_mb: dict[str, float] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            props = resource.get("Properties", {})
            uri = props.get("ContentUri", props.get("Content"))
            layer_mb[logical_id] = tree_bytes(_local_dir(uri, build_dir, logical_id)) / MIB
    rows = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        code_mb = tree_bytes(_local_dir(resource["Properties"].get("CodeUri"), build_dir, logical_id)) / MIB
        layers = {layer: round(layer_mb[layer], 2) for layer in _layer_ids(resource, globals_function)}
        layers_mb = sum(layer_mb[layer] for layer in layers)
        total_mb = code_mb + layers_mb
        rows.append(
            {
                "function": logical_id,
                "code_mb": round(code_mb, 2),
                "layers": layers,
                "layers_mb": round(layers_mb, 2),
                "total_mb": round(total_mb, 2),
                "limit_mb": limit_mb,
                "headroom_mb": round(limit_mb - total_mb, 2),
                "ok": total_mb <= limit_mb,
            }
        )
    if not rows:
        raise PackageCheckError(f"no AWS::Serverless::Function in {built}")
    return {"limit_mb": limit_mb, "layers_mb": {k: round(v, 2) for k, v in layer_mb.items()}, "functions": rows,
            "ok": all(row["ok"] for row in rows)}


def format_table(report: dict[str, Any]) -> str:
    header = f"{'function':<20} {'code MB':>9} {'layers MB':>10} {'total MB':>9} {'limit MB':>9} {'headroom MB':>12}"
    lines = [header, "-" * len(header)]
    for row in report["functions"]:
        flag = "" if row["ok"] else "   OVER THE LIMIT"
        lines.append(
            f"{row['function']:<20} {row['code_mb']:>9.2f} {row['layers_mb']:>10.2f} {row['total_mb']:>9.2f}"
            f" {row['limit_mb']:>9.1f} {row['headroom_mb']:>12.2f}{flag}"
        )
    lines.append("layers: " + ", ".join(f"{name} {mb:.2f} MB" for name, mb in report["layers_mb"].items()))
    return "\n".join(lines)


def main(config: Config) -> int:
    """Build (unless skip_build), measure, print the table, write the JSON report; return the exit status."""
    try:
        build_seconds = None if config.skip_build else run_sam_build(config)
        report = measure(config.build_dir, limit_mb=config.limit_mb)
    except PackageCheckError as error:
        print(f"check_package: {error}", file=sys.stderr)
        return 2
    report["build_seconds"] = None if build_seconds is None else round(build_seconds, 1)
    config.report_path.parent.mkdir(parents=True, exist_ok=True)
    config.report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(format_table(report))
    if build_seconds is not None:
        print(f"sam build: {build_seconds:.1f} s")
    print(f"report: {config.report_path}")
    if not report["ok"]:
        over = [row["function"] for row in report["functions"] if not row["ok"]]
        print(f"check_package: over Lambda's {config.limit_mb:.0f} MB unzipped limit: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=Config.template)
    parser.add_argument("--build-dir", type=Path, default=Config.build_dir)
    parser.add_argument("--report", type=Path, default=Config.report_path, dest="report_path")
    parser.add_argument("--sam", default="", help="sam executable (default: .venv-tools/bin/sam, then PATH)")
    parser.add_argument("--limit-mb", type=float, default=Config.limit_mb)
    parser.add_argument("--skip-build", action="store_true", help="measure the existing build directory")
    parser.add_argument("--no-cache", dest="cached", action="store_false", help="rebuild everything (no --cached)")
    parser.add_argument("--serial", dest="parallel", action="store_false", help="build one resource at a time")
    args = parser.parse_args()
    sys.exit(main(Config(**vars(args))))
