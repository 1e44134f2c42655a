"""The build's one addition to pyproject.toml: the files a user edits (rules/, config/,
grammars/, voice/, alerts/) ship inside the wheel as mia/_bundled/, so an installed mia has its
default rules, demo config, grammar and instrument table (``mia.resources``)."""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: top-level folder -> the files of it that ship
BUNDLED = {"rules": "*.yaml", "config": "*.yaml", "grammars": "*.lark", "voice": "*.yaml", "alerts": "*.yaml"}


class BuildWithBundled(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):     # an editable install reads the checkout's own
            return
        root = Path(__file__).resolve().parent
        for folder, pattern in BUNDLED.items():
            target = Path(self.build_lib) / "mia" / "_bundled" / folder
            for src in sorted((root / folder).glob(pattern)):
                self.mkpath(str(target))
                self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildWithBundled})
