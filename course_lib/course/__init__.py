"""The course's notebook support: what the notebooks in ``notebooks/`` use around the library
(``course_lib.models``, ``data``, ``losses``, ``metrics``, ``train``), kept apart from it.

A notebook imports what it needs by topic::

    from course_lib.course import exercises, figures

=====================  ==========================================================================================
module                 what it holds
=====================  ==========================================================================================
:mod:`.figures`        every picture the notebooks show, one module per topic: images and items, spectra, block
                       diagrams, model internals, training curves, tables and source
:mod:`.exercises`      the exercises' automatic checks, one module per topic: data, attention, MPFNet, losses,
                       GAN, evaluation
:mod:`.solutions`      the reference solutions, for instructors: no notebook imports them, the tests check each
                       against its check (``tests/test_exercises*.py``)
:mod:`.frontend`       where a helper runs: a notebook kernel, a widget frontend, or text only
=====================  ==========================================================================================

The library never imports this package, and importing ``course_lib.course`` imports none of its modules.
"""
