// The state an editor's form shares with the others: errors on its fields, a
// failure that names none, and whether a save is under way; for the resource
// editors (targets, jobs, channels, ...) also filling the form each time it
// opens, a connection test, and saving a new resource or an edited one.
import { reactive, ref, shallowRef, watch, type Ref, type WatchSource } from 'vue'
import { describeError, errorField } from './errors'

export function useEditorForm<F extends string>(fields: readonly F[]) {
  const errors = reactive({}) as Partial<Record<F, string>>
  const failure = ref<string | null>(null)
  const busy = ref(false)

  function clear() {
    for (const k of fields) delete errors[k]
    failure.value = null
  }

  /**
   * Runs the save (busy meanwhile). The daemon's refusal lands on the field it
   * names when the form has it, in `failure` otherwise.
   */
  async function submit(save: () => Promise<void>) {
    busy.value = true
    try {
      await save()
    } catch (err) {
      const field = errorField(err) as F | undefined
      if (field && fields.includes(field)) errors[field] = describeError(err)
      else failure.value = describeError(err)
    } finally {
      busy.value = false
    }
  }

  return { errors, failure, busy, clear, submit }
}

export interface ResourceEditorOptions<F extends string> {
  /** The editor's v-model:show: the form is filled each time it opens, and closed once saved. */
  show: Ref<boolean>
  /** The form's own fields, which the daemon's refusals may name. */
  fields: readonly F[]
  /** Fills the form (from the resource edited, or blank) after its errors were cleared. */
  load: () => void
  /**
   * A refusal that names a field of the plugin's (or channel kind's) own
   * settings: that field's name, when the form shows it. Such errors land in
   * `fieldErrors`.
   */
  settingsField?: (err: unknown) => string | undefined
  /** Another reading of the field a refusal names (default: the API's `field`). */
  formField?: (err: unknown) => string | undefined
  /** Whether a saved form closes (default: yes). */
  closeOnSaved?: boolean
}

/** Create or update: the uuid of the resource saved. */
export async function upsert<B>(
  existing: { uuid: string } | null | undefined,
  body: B,
  api: {
    create: (body: B) => Promise<{ uuid: string }>
    update: (uuid: string, body: B) => Promise<unknown>
  },
): Promise<string> {
  if (existing) {
    await api.update(existing.uuid, body)
    return existing.uuid
  }
  return (await api.create(body)).uuid
}

/**
 * An editor of a resource: its form's errors (`errors` on its own fields,
 * `fieldErrors` on a plugin's settings, `failure` for the rest), busy while
 * saving, `testing` and `tested` for a test of what is typed, the form filled
 * again each time it opens.
 */
export function useResourceEditor<F extends string, T = never>(opts: ResourceEditorOptions<F>) {
  const errors = reactive({}) as Partial<Record<F, string>>
  const fieldErrors = reactive<Record<string, string>>({})
  const failure = ref<string | null>(null)
  const busy = ref(false)
  const testing = ref(false)
  /** The answer of a test of the form as typed, shown until the form changes. */
  const tested = shallowRef<T | null>(null)

  function clear() {
    for (const k of Object.keys(errors)) delete errors[k as F]
    for (const k of Object.keys(fieldErrors)) delete fieldErrors[k]
    failure.value = null
  }

  /** Puts the daemon's error on the field it names, or under the form. */
  function showError(err: unknown) {
    const text = describeError(err)
    const setting = opts.settingsField?.(err)
    if (setting) {
      fieldErrors[setting] = text
      return
    }
    const field = (opts.formField ?? errorField)(err) as F | undefined
    if (field && opts.fields.includes(field)) errors[field] = text
    else failure.value = text
  }

  /** Runs the save (busy meanwhile), then closes the form; a refusal is shown on the form. */
  async function submit(save: () => Promise<void>) {
    busy.value = true
    try {
      await save()
      if (opts.closeOnSaved !== false) opts.show.value = false
    } catch (err) {
      showError(err)
    } finally {
      busy.value = false
    }
  }

  /** Runs a test of the form as typed (`testing` meanwhile); its answer lands in `tested`. */
  async function test(run: () => Promise<T>) {
    testing.value = true
    try {
      tested.value = await run()
    } catch (err) {
      showError(err)
    } finally {
      testing.value = false
    }
  }

  /** Clears the error on `field` when `source` (its input) changes. */
  function clearOnChange(field: F, source: WatchSource | WatchSource[]) {
    watch(source, () => delete errors[field])
  }

  watch(
    opts.show,
    (s) => {
      if (!s) return
      clear()
      tested.value = null
      opts.load()
    },
    { immediate: true },
  )

  return {
    errors,
    fieldErrors,
    failure,
    busy,
    testing,
    tested,
    clear,
    showError,
    submit,
    test,
    clearOnChange,
  }
}
