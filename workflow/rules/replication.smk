# The replication verdict of every testable claim : one table, first in the report.
import nnqft.replication


def replication_inputs():
    return sorted({f"results/tables/{name}" for claim in nnqft.replication.CLAIMS for name in claim.evidence
                   if name.endswith(".csv")})


rule replication_summary:
    input:
        replication_inputs(),
    output:
        report(
            "results/tables/replication_summary.csv",
            caption="../report/replication_summary.rst",
            category="0. Replication summary",
        ),
    params:
        code=code_of("replication_summary"),
    log:
        "logs/replication_summary.log",
    script:
        "../scripts/replication_summary.py"
