"""The course's notebook support: what the notebooks in ``notebooks/`` use around the library
(``course_lib.models``, ``data``, ``losses``, ``metrics``, ``train``), kept apart from it.

A notebook imports what it needs by topic::

    from course_lib.course import exercises, figures            # notebooks 00-06
    from course_lib.course import exercises, figures, runs      # notebooks 07-11, which train

=====================  ==========================================================================================
module                 what it holds
=====================  ==========================================================================================
:mod:`.figures`        every picture the notebooks show, one module per topic: images and items, spectra, block
                       diagrams, model internals, training curves, tables and source
:mod:`.exercises`      the exercises' automatic checks, one module per topic: data, attention, MPFNet, losses,
                       GAN, evaluation
:mod:`.solutions`      the reference solutions, for instructors: no notebook imports them, the tests check each
                       against its check (``tests/test_exercises*.py``)
:mod:`.runs`           training in notebooks 07-11: ``notebook_profile``, ``train_default`` (their ``TRAIN``
                       switch), ``default_run_dir`` (Google Drive on Colab), ``stop_after`` (a simulated
                       disconnect), the sample grids a stage saved
:mod:`.paper`          the paper's Tables I and II, typed in, and ``compare_with_paper``
:mod:`.ablation`       the ablation runner: switches -> training configs -> a short cached run -> images and
                       Table-I metrics next to the full model's
:mod:`.panel`          notebook 10's ipywidgets panel in front of the ablation runner
:mod:`.showcase`       the shipped weights on three real NIR photos (notebooks 07-11)
:mod:`.frontend`       where a helper runs: a notebook kernel, a widget frontend, or text only
=====================  ==========================================================================================

The library never imports this package, and importing ``course_lib.course`` imports none of its modules.
"""
