"""deploy/template.yaml (AWS SAM) is valid CloudFormation per `cfn-lint` (PyPI) and says what the
Lambda deployment needs: the image, a streaming Function URL, least-privilege IAM for AMP and S3."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "template.yaml"


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True, timeout=300)


def test_template_passes_cfn_lint() -> None:
    r = cfn_lint(TEMPLATE)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("ImageUri: !Ref ImageUri", "ImageUri: !Ref NoSuchParameter"))
    r = cfn_lint(broken)
    assert r.returncode != 0 and "NoSuchParameter" in r.stdout, r.stdout + r.stderr


def test_template_content() -> None:
    text = TEMPLATE.read_text()
    assert "PackageType: Image" in text and "InvokeMode: RESPONSE_STREAM" in text
    assert "AuthType: AWS_IAM" in text
    actions = set(re.findall(r"\b(aps:\w+|s3:\w+)", text))
    assert actions == {"aps:QueryMetrics", "aps:GetLabels", "aps:GetMetricMetadata", "aps:ListWorkspaces",
                       "s3:GetObject", "s3:ListBucket"}, actions
    assert "Action: \"*\"" not in text and "s3:*" not in text and "aps:*" not in text
