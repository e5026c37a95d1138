## eval-model: score the packaged base model on the golden set (in-process, CPU, minutes)
eval-model: setup
	$(PY) -m steward_trainer.evaluate_cli
