from steward_infra.cli import app

app(prog_name="steward-infra")
