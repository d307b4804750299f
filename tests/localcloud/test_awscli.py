"""The AWS CLI (v1, `awscli` on PyPI) pointed at localcloud sees the same catalog as boto3.

awscli==1.46.3 is pinned in requirements.txt (it works with botocore==1.44.5).
"""

import json
import os
import subprocess
import sys
from typing import Any

from tests.localcloud.helpers import SIMPLE_TEMPLATE, create_portfolio, create_product, put_template


def aws_cli(endpoint: str, *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout) if completed.stdout.strip() else None


def test_cli_lists_the_portfolio_and_products_boto3_created(
    sc: Any, s3: Any, local_endpoint: str
) -> None:
    portfolio_id = create_portfolio(sc)
    product_id, _ = create_product(sc, put_template(s3, local_endpoint, "t.json", SIMPLE_TEMPLATE))
    listed = aws_cli(local_endpoint, "servicecatalog", "list-portfolios")
    assert [p["Id"] for p in listed["PortfolioDetails"]] == [portfolio_id]
    products = aws_cli(local_endpoint, "servicecatalog", "search-products-as-admin")
    assert [p["ProductViewSummary"]["ProductId"] for p in products["ProductViewDetails"]] == [
        product_id
    ]
