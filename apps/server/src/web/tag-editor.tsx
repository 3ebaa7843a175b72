import { useState } from 'preact/hooks';
import { api } from './api.js';

export interface TagEditorProps {
  readonly id: string;
  readonly tags: readonly string[];
  /** The tags as the server stored them (normalized, sorted). */
  readonly onChange: (tags: readonly string[]) => void;
}

/** A message's tags as chips: × removes one, the field adds (Enter; commas add several). */
export function TagEditor(props: TagEditorProps) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);

  const save = async (tags: readonly string[]) => {
    try {
      const result = await api.setTags(props.id, tags);
      setError(null);
      props.onChange(result.tags);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };
  const add = async () => {
    const added = draft
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== '');
    if (added.length === 0) return;
    setDraft('');
    await save([...props.tags, ...added]);
  };

  return (
    <div class="tag-editor">
      {props.tags.map((tag) => (
        <span class="tag" key={tag}>
          {tag}
          <button
            type="button"
            class="tag-remove"
            aria-label={`Remove tag ${tag}`}
            onClick={() => void save(props.tags.filter((kept) => kept !== tag))}
          >
            ×
          </button>
        </span>
      ))}
      <input
        class="tag-input"
        aria-label="Add tags"
        placeholder="Add tag…"
        value={draft}
        onInput={(event) => setDraft((event.target as HTMLInputElement).value)}
        onKeyDown={(event) => {
          if (event.key !== 'Enter') return;
          event.preventDefault();
          void add();
        }}
      />
      {error !== null && (
        <span class="error-inline" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
