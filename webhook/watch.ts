import { watch, type FSWatcher } from 'node:fs';

export interface DebouncedWatch {
  close(): void;
}

/**
 * Watches directories and calls `onSettled` once changes have stopped for `debounceMs`
 * (editors, Secret and ConfigMap updates write in several steps). Directories, not files:
 * atomic replacement (rename, a `..data` symlink swap) ends a file watch.
 */
export function watchDebounced(dirs: readonly { path: string; recursive: boolean }[], debounceMs: number, onSettled: () => void): DebouncedWatch {
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onSettled, debounceMs);
  };
  const watchers: FSWatcher[] = dirs.map(({ path, recursive }) => {
    const watcher = watch(path, { recursive }, schedule);
    watcher.on('error', () => undefined);
    return watcher;
  });
  return {
    close: () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
