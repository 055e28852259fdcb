"""The progress of `rasa train`, read from its output."""

from __future__ import annotations

from promptlink.assistant import training


def test_progress_from_rasa_train_output_including_the_unfinished_tqdm_line() -> None:
    output = training.TrainingOutput()
    output.feed(
        b"2026-11-25 23:30:07 INFO rasa.engine.training.hooks  - Starting to train component 'RegexFeaturizer'.\n"
    )
    assert (output.progress, output.stage) == (10, "Entrenando RegexFeaturizer")
    output.feed(b"2026-11-25 23:30:14 INFO rasa.engine.training.hooks  - Starting to train component 'DIETClassif")
    output.feed(b"ier'.\n\rEpochs:   0%|          | 0/20 [00:00<?, ?it/s]")
    assert output.stage == "Entrenando DIETClassifier: 0 % de las épocas"
    output.feed(b"\rEpochs:  50%|#####     | 10/20 [01:44<07:35, 26.79s/it, t_loss=4.59, i_acc=0.807]")
    assert (output.progress, output.stage) == (39, "Entrenando DIETClassifier: 50 % de las épocas")
    output.feed(b"\rEpochs: 100%|##########| 20/20 [03:00<00:00]\n")
    output.feed(b"INFO - Restored component 'TEDPolicy' from cache.\n")
    assert output.progress == 68
    output.feed(b"INFO - Starting to train component 'TEDPolicy'.\n\rEpochs: 100%|##########| 40/40\n")
    assert output.progress == 84  # the rest is the evaluation's
    assert "Restored component 'TEDPolicy'" in output.tail and "Epochs: 100%" in output.tail
