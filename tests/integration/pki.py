"""The test certificates for TURN over TLS, made fresh by each scenario that needs them with Debian's openssl:
a CA, and server certificates signed by it that carry the listener's IP address as a subjectAltName (clients
connect by IP: aioice, aiortc, Chromium and Go check it). Also a second, unrelated CA and a server certificate of
its own, for the clients that must refuse it.

    pki = Pki(workdir)                       # workdir/pki/
    pki.ca                                   # PEM of the CA clients trust
    cert, key = pki.server("10.90.0.1")      # ECDSA P-256; rsa=True: RSA 2048
    other_cert, other_key = pki.rogue_server("10.90.0.1")
"""

import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True)


class Pki:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pki"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca, self.ca_key = self._ca("ca", "tern test CA")
        self.rogue_ca, self.rogue_ca_key = self._ca("rogue-ca", "some other CA")

    def _ca(self, name: str, subject: str) -> tuple[Path, Path]:
        key, cert = self.dir / f"{name}.key", self.dir / f"{name}.pem"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                 "-keyout", key.name, "-out", cert.name, "-subj", f"/CN={subject}",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 cwd=self.dir)
        return cert, key

    def _signed(self, name: str, ip: str, ca: Path, ca_key: Path, rsa: bool, days: int) -> tuple[Path, Path]:
        key, csr, cert = self.dir / f"{name}.key", self.dir / f"{name}.csr", self.dir / f"{name}.pem"
        algorithm = ["rsa", "-pkeyopt", "rsa_keygen_bits:2048"] if rsa else ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        _openssl("req", "-newkey", *algorithm, "-nodes", "-keyout", key.name, "-out", csr.name,
                 "-subj", f"/CN={ip}", cwd=self.dir)
        ext = self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        _openssl("x509", "-req", "-in", csr.name, "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
                 "-days", str(days), "-extfile", ext.name, "-out", cert.name, cwd=self.dir)
        return cert, key

    def server(self, ip: str, rsa: bool = False, days: int = 30) -> tuple[Path, Path]:
        return self._signed(f"server-{'rsa' if rsa else 'ec'}-{ip}", ip, self.ca, self.ca_key, rsa, days)

    def rogue_server(self, ip: str) -> tuple[Path, Path]:
        return self._signed(f"rogue-{ip}", ip, self.rogue_ca, self.rogue_ca_key, False, 30)
