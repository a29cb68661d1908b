"""JupyterLab as learners get it (`make lab` adds this folder to JUPYTER_CONFIG_PATH).

Instructors install nbgrader into the same environment (the `instructor` extra, which `make test`
installs too), and nbgrader adds a formgrader, "Create Assignment", "Validate" and assignment lists to
every JupyterLab it can see. Learners need none of it, so this configuration switches nbgrader's server
extensions off and hides its JupyterLab extension. `COURSEKIT_INSTRUCTOR=1 make lab` keeps them.
"""

import os

NBGRADER_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
]
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"


def hide_grading_ui(handler, page_config):
    """JupyterLab's page-config hook: mark nbgrader's front end disabled, keeping what else is disabled.

    The front end reads ``disabledExtensions`` as a *list* of names (jupyterlab_server turns the config
    files' ``{name: true}`` form into one before this hook runs); handed a mapping, JupyterLab stops at
    start-up with a blank page.
    """
    disabled = page_config.get("disabledExtensions") or []
    if isinstance(disabled, dict):
        disabled = [name for name, off in disabled.items() if off]
    page_config["disabledExtensions"] = list(dict.fromkeys([*disabled, NBGRADER_LAB_EXTENSION]))
    return page_config


if os.environ.get("COURSEKIT_INSTRUCTOR") != "1":
    c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
    c.ServerApp.jpserver_extensions.update(dict.fromkeys(NBGRADER_SERVER_EXTENSIONS, False))
    c.ServerApp.tornado_settings.update({"page_config_hook": hide_grading_ui})
