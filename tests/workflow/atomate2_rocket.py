"""A rocket process for the atomate2 campaign tests: installs the fake VASP the way atomate2's own tests do
(``tests.labelling.atomate2_fake``, from the environment), then runs FireWorks' rapidfire on seilearn's
LaunchPad over the campaign's fireworks of the given categories until none is ready.

Usage: ``python -m tests.workflow.atomate2_rocket CAMPAIGN CATEGORY[,CATEGORY...] LAUNCH_DIR``
"""

from __future__ import annotations

import sys


def main(campaign_id: str, categories: list[str], launch_dir: str) -> None:
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    from seilearn.config import load_settings
    from seilearn.store import get_launchpad
    from tests.labelling.atomate2_fake import install_from_env

    install_from_env()
    lp = get_launchpad(load_settings(), strm_lvl="ERROR")
    worker = FWorker(name="atomate2-test-rocket", query={"spec._seilearn.campaign_id": campaign_id,
                                                         "spec._category": {"$in": categories}})
    rapidfire(lp, worker, m_dir=launch_dir, nlaunches=0, sleep_time=0, strm_lvl="WARNING")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].split(","), sys.argv[3])
