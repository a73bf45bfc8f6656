"""Install mmssl_us (pip install -e .). Heavy dependencies are installed by tools/setup.sh,
which builds mmcv against the torch already present; see README.md."""
from setuptools import find_packages, setup


def read_version() -> str:
    with open('mmssl_us/__init__.py', encoding='utf-8') as f:
        for line in f:
            if line.startswith('__version__'):
                return line.split('=')[1].strip().strip("'\"")
    raise RuntimeError('no __version__ in mmssl_us/__init__.py')


def read_requirements() -> list:
    with open('requirements.txt', encoding='utf-8') as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith('#')]


setup(
    name='mmssl_us',
    version=read_version(),
    description='Self-supervised pretraining for ultrasound segmentation (OpenMMLab plugin)',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=read_requirements(),
    zip_safe=False,
)
