"""Turns Debian's installed python3-* packages into wheels, so pip's own resolver can
install Flask, redis and requests offline inside the python image.

Debian removes upstream's install_requires from the metadata it installs (its package
Depends carry them instead), so each wheel's Requires-Dist is rebuilt from the Depends
of the package that owns the distribution: python3-werkzeug (>= 2.2.2) becomes
Werkzeug>=2.2.2.

Runs with the Debian Python it reads (inside the throwaway i386 tree, through chroot):
only that interpreter's importlib.metadata knows how Debian installed each distribution.
Usage: python3 make-wheels.py OUT_DIR ROOT_DISTRIBUTION...
"""
import base64
import csv
import hashlib
import io
import re
import subprocess
import sys
import zipfile
from email.message import Message
from importlib import metadata
from pathlib import Path

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name

SITE = Path("/usr/lib/python3/dist-packages")


def files_of(dist):
    """The distribution's files relative to dist-packages; egg-info has no RECORD, so
    fall back to its top-level modules."""
    if dist.files:
        # RECORD may name files Debian moved elsewhere (console scripts): keep what is here.
        return [p for p in dist.files if not str(p).startswith("..") and "__pycache__" not in str(p)
                and ".egg-info" not in str(p) and ".dist-info" not in str(p) and (SITE / p).is_file()]
    top = (dist.read_text("top_level.txt") or "").split()
    paths = []
    for name in top:
        package = SITE / name
        if package.is_dir():
            paths += [p.relative_to(SITE) for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        elif (SITE / f"{name}.py").exists():
            paths.append(Path(f"{name}.py"))
    return paths


def owning_package(dist):
    """The Debian package that installed this distribution's metadata."""
    path = str(dist._path)  # importlib.metadata's PathDistribution knows its folder
    out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=True).stdout
    return out.split(":")[0].strip()


def distributions_of(package):
    """Distribution names whose metadata the Debian package installs."""
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        match = re.match(r"^/usr/lib/python3/dist-packages/([^/]+?)-[^-/]+\.(egg|dist)-info$", line)
        if match:
            names.append(match.group(1))
    return names


def debian_requirements(dist):
    """Requires-Dist lines from the owning package's Depends (see the module docstring)."""
    package = owning_package(dist)
    depends = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", package], capture_output=True, text=True, check=True).stdout
    requirements = []
    for group in filter(None, (g.strip() for g in depends.split(","))):
        alternatives = [a.strip() for a in group.split("|")]
        # "python3-importlib-metadata | python3 (>> 3.10)": a backport Python 3.11 does not need.
        if any(re.match(r"^python3(:any)?( |$)", a) for a in alternatives):
            continue
        for alternative in alternatives:
            match = re.match(r"^(python3-[a-z0-9.+-]+)(?::any)?(?: \((>=) ([^)]+)\))?$", alternative)
            if not match:
                continue
            names = distributions_of(match.group(1))
            if not names:
                continue
            version = ""
            if match.group(2):
                upstream = re.sub(r"^\d+:", "", match.group(3))
                upstream = re.split(r"[-+~]", upstream)[0]
                version = f">={upstream}"
            requirements.append(f"{names[0]}{version}")
            break
    return requirements


def all_requirements(dist):
    declared = [r for r in (dist.requires or [])]
    declared_names = {canonicalize_name(Requirement(r).name) for r in declared}
    extra = [r for r in debian_requirements(dist) if canonicalize_name(Requirement(r).name) not in declared_names]
    return declared + extra


def metadata_text(dist):
    meta = dist.metadata
    out = Message()
    for key in ("Metadata-Version", "Name", "Version", "Summary", "Home-page", "Author", "License", "Requires-Python"):
        if meta.get(key):
            out[key] = meta[key]
    out.replace_header("Metadata-Version", "2.1") if out.get("Metadata-Version") else None
    for extra in meta.get_all("Provides-Extra") or []:
        out["Provides-Extra"] = extra
    for requirement in all_requirements(dist):
        out["Requires-Dist"] = requirement
    return out.as_string()


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def build_wheel(dist, out_dir):
    name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    version = dist.version
    files = files_of(dist)
    has_binary = any(str(p).endswith(".so") for p in files)
    tag = "cp311-cp311-linux_i686" if has_binary else "py3-none-any"
    info = f"{name}-{version}.dist-info"
    entries = {}
    for rel in files:
        entries[str(rel)] = (SITE / rel).read_bytes()
    entries[f"{info}/METADATA"] = metadata_text(dist).encode()
    entries[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: berth-make-wheels (from Debian's package)\n"
        f"Root-Is-Purelib: {'false' if has_binary else 'true'}\nTag: {tag}\n"
    ).encode()
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        entries[f"{info}/entry_points.txt"] = entry_points.encode()
    records = io.StringIO()
    writer = csv.writer(records, lineterminator="\n")
    for path, data in entries.items():
        writer.writerow(record_line(path, data))
    writer.writerow([f"{info}/RECORD", "", ""])
    entries[f"{info}/RECORD"] = records.getvalue().encode()
    wheel = out_dir / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(entries.items()):
            info_entry = zipfile.ZipInfo(path, date_time=(2023, 1, 1, 0, 0, 0))
            info_entry.external_attr = 0o644 << 16
            archive.writestr(info_entry, data, zipfile.ZIP_DEFLATED)
    return wheel


def main():
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = list(sys.argv[2:])
    done = set()
    while todo:
        wanted = canonicalize_name(todo.pop())
        if wanted in done:
            continue
        done.add(wanted)
        dist = metadata.distribution(wanted)
        print(f"make-wheels: {build_wheel(dist, out_dir).name}")
        for spec in all_requirements(dist):
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            todo.append(requirement.name)


if __name__ == "__main__":
    main()
