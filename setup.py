"""Install mmssl_us: ``pip install -e .`` (a checkout; tools/setup.sh) or ``pip install .``.

Heavy dependencies are installed by tools/setup.sh, which builds mmcv against the torch already
present; see README.md. A wheel carries the configs in ``mmssl_us/.mim/configs`` (where
OpenMMLab packages keep theirs; ``mmssl_us.config_utils.resolve_config`` finds them) and the
``mmssl-us-*`` commands (``mmssl_us.cli.COMMANDS``).
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))

#: console scripts: the same list as mmssl_us.cli.COMMANDS (tests/test_packaging.py checks it)
CONSOLE_SCRIPTS = [
    'mmssl-us-study = mmssl_us.cli:study',
    'mmssl-us-train = mmssl_us.cli:train',
    'mmssl-us-test = mmssl_us.cli:test',
    'mmssl-us-dist-test = mmssl_us.cli:dist_test',
    'mmssl-us-convert = mmssl_us.cli:convert',
    'mmssl-us-synthetic = mmssl_us.cli:synthetic',
    'mmssl-us-check-leakage = mmssl_us.cli:check_leakage',
    'mmssl-us-infer = mmssl_us.cli:infer',
]


class BuildWithConfigs(build_py):
    """build_py that also copies ``configs/`` (the ``.py`` files) into
    ``<build>/mmssl_us/.mim/configs``."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return  # an editable install reads configs/ beside the package
        dst_root = osp.join(self.build_lib, 'mmssl_us', '.mim', 'configs')
        src_root = osp.join(HERE, 'configs')
        for folder, _, files in os.walk(src_root):
            for name in files:
                if name.endswith('.py'):
                    src = osp.join(folder, name)
                    dst = osp.join(dst_root, osp.relpath(src, src_root))
                    os.makedirs(osp.dirname(dst), exist_ok=True)
                    shutil.copyfile(src, dst)


def read_version() -> str:
    with open(osp.join(HERE, 'mmssl_us', '__init__.py'), encoding='utf-8') as f:
        for line in f:
            if line.startswith('__version__'):
                return line.split('=')[1].strip().strip("'\"")
    raise RuntimeError('no __version__ in mmssl_us/__init__.py')


def read_requirements() -> list:
    with open(osp.join(HERE, 'requirements.txt'), encoding='utf-8') as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith('#')]


with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
    LONG_DESCRIPTION = f.read()

setup(
    name='mmssl_us',
    version=read_version(),
    description='Self-supervised pretraining for ultrasound segmentation (OpenMMLab plugin)',
    long_description=LONG_DESCRIPTION,
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'configs.*', 'tools',
                                    'tools.*', 'benchmarks', 'benchmarks.*')),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=read_requirements(),
    entry_points={'console_scripts': CONSOLE_SCRIPTS},
    cmdclass={'build_py': BuildWithConfigs},
    zip_safe=False,
)
