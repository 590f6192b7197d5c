import fs from 'node:fs';
import path from 'node:path';

/**
 * Why Dawn found no WebGPU adapter, in terms of what to install. On Linux Dawn runs on
 * Vulkan: it dlopens the Vulkan loader (libvulkan.so.1), which reads driver manifests
 * (ICD JSON files) naming each driver. Either can be missing; a driver can also be too
 * old for Dawn (Debian 12's own Mesa 22.3 lavapipe is; Mesa 25 from bookworm-backports
 * works). macOS uses Metal and Windows D3D12, both part of the OS.
 */
export function diagnoseNoAdapter(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'Dawn found no Metal adapter (WebGPU needs macOS 11+ on a Metal-capable GPU)';
  if (platform === 'win32') return 'Dawn found no D3D12 adapter (update the GPU driver; WebGPU needs Windows 10+ with D3D12)';
  if (platform !== 'linux') return `Dawn found no adapter (platform ${platform} is untested)`;
  if (!vulkanLoader(env)) {
    return 'no Vulkan loader: libvulkan.so.1 is not installed (Debian/Ubuntu: apt install libvulkan1)';
  }
  const listed = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (listed) {
    const files = listed.split(':').filter(Boolean);
    const absent = files.filter((f) => !fs.existsSync(f));
    if (absent.length === files.length) {
      return `no Vulkan driver: ${env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : 'VK_ICD_FILENAMES'} names ${absent.join(', ')}, which does not exist`;
    }
    return `no usable Vulkan driver among ${files.join(', ')} (set by ${env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : 'VK_ICD_FILENAMES'}): Dawn rejected them`;
  }
  const icds = driverManifests(env);
  if (icds.length === 0) {
    return (
      'no Vulkan driver: no ICD manifest in ' +
      `${manifestDirs(env).join(', ')} (NVIDIA: the proprietary driver installs nvidia_icd.json; software: apt install mesa-vulkan-drivers from bookworm-backports, Mesa ≥ 25)`
    );
  }
  const names = icds.map((f) => path.basename(f)).join(', ');
  return (
    `Vulkan drivers are installed (${names}) but Dawn accepted none: a driver too old for Dawn ` +
    "(Debian 12's Mesa 22.3 lavapipe is; Mesa 25 from bookworm-backports works) or no device it can open (containers: pass the GPU in)"
  );
}

/** True when the Vulkan loader library is where the dynamic linker looks. */
function vulkanLoader(env: NodeJS.ProcessEnv): boolean {
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    `/usr/lib/${multiarch()}`,
    `/lib/${multiarch()}`,
    '/usr/lib64',
    '/lib64',
    '/usr/lib',
    '/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}

function multiarch(): string {
  return process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
}

/** The directories the Vulkan loader searches for ICD manifests (XDG data and config dirs). */
function manifestDirs(env: NodeJS.ProcessEnv): string[] {
  const data = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const config = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  return [...new Set([...config, '/etc', ...data].map((d) => path.join(d, 'vulkan', 'icd.d')))];
}

function driverManifests(env: NodeJS.ProcessEnv): string[] {
  return manifestDirs(env).flatMap((d) => {
    try {
      return fs.readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => path.join(d, f));
    } catch {
      return [];
    }
  });
}
