import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { defineComponent, h } from 'vue'
import FormDialog from '@/components/FormDialog.vue'
import FormField from '@/components/FormField.vue'
import { useFormDialog } from '@/composables/useFormDialog'
import { phone, required, vantPhone, PHONE_PATTERN } from '@/composables/rules'
import { ApiError } from '@/api/errors'

afterEach(() => {
  document.body.innerHTML = ''
  vi.restoreAllMocks()
})

function page(
  submit: (m: { name: string; phone: string }, editing: { id: number; name: string } | null) => Promise<unknown>,
  done = vi.fn(),
) {
  setActivePinia(createPinia())
  let dialog!: ReturnType<typeof useFormDialog<{ name: string; phone: string }, { id: number; name: string }>>
  const Page = defineComponent({
    setup() {
      dialog = useFormDialog({
        blank: () => ({ name: '', phone: '' }),
        fill: (row: { id: number; name: string }) => ({ name: row.name }),
        submit,
        success: '',
        done,
      })
      const rules = { name: [required('请填写姓名')], phone: [phone()] }
      return () =>
        h(
          FormDialog,
          { dialog: dialog as never, title: '登记', rules },
          {
            default: () => [
              h(FormField, { label: '姓名', prop: 'name' }, () =>
                h('input', {
                  class: 'name',
                  value: dialog.model.name,
                  onInput: (e: Event) => (dialog.model.name = (e.target as HTMLInputElement).value),
                }),
              ),
              h(FormField, { label: '电话', prop: 'phone' }, () => h('input', { class: 'phone' })),
            ],
          },
        )
    },
  })
  const wrapper = mount(Page, {
    global: { plugins: [ElementPlus], stubs: { transition: false, 'transition-group': false } },
    attachTo: document.body,
  })
  return { wrapper, dialog: () => dialog, done }
}

const settle = async () => {
  await flushPromises()
  await new Promise((r) => setTimeout(r, 30))
  await flushPromises()
}

describe('create/edit dialog', () => {
  it('checks the form in Chinese before sending anything', async () => {
    const submit = vi.fn(async () => ({ id: 1 }))
    const { dialog } = page(submit)
    dialog().open()
    await settle()
    expect(await dialog().save()).toBe(false)
    await settle()
    expect(submit).not.toHaveBeenCalled()
    expect(document.querySelector('[data-field-item=name]')?.classList.contains('is-error')).toBe(true)
    expect(document.querySelector('[data-field-item=phone]')?.classList.contains('is-error')).toBe(false)
    expect(dialog().state.visible).toBe(true)
  })

  it("shows the server's field message at its field and stays open; closes and reloads on success", async () => {
    let fail = true
    const submit = vi.fn(async () => {
      if (fail) throw new ApiError(422, { detail: '请检查', errors: [{ field: 'name', message: '同名人员已登记' }] })
      return { id: 7 }
    })
    const { wrapper, dialog, done } = page(submit)
    dialog().open()
    dialog().model.name = '王秀英'
    await settle()
    expect(await dialog().save()).toBe(false)
    await settle()
    const nameItem = wrapper.findAllComponents(FormField)[0].findComponent({ name: 'ElFormItem' })
    expect(nameItem.props('error')).toBe('同名人员已登记')
    expect(nameItem.classes()).toContain('is-error')
    expect(dialog().state.visible).toBe(true)
    expect(done).not.toHaveBeenCalled()

    fail = false
    expect(await dialog().save()).toBe(true)
    await flushPromises()
    expect(dialog().state.visible).toBe(false)
    expect(done).toHaveBeenCalledWith({ id: 7 }, null)
  })

  it('opens on a row for editing, and blank again for a new record', async () => {
    const submit = vi.fn(async (_m: unknown, editing: unknown) => editing)
    const { dialog } = page(submit)
    dialog().open({ id: 3, name: '李淑华' })
    expect(dialog().model).toEqual({ name: '李淑华', phone: '' })
    await dialog().save()
    expect(submit).toHaveBeenLastCalledWith({ name: '李淑华', phone: '' }, { id: 3, name: '李淑华' })
    dialog().open()
    expect(dialog().model.name).toBe('')
    expect(dialog().state.editing).toBeNull()
  })
})

describe('phone rule', () => {
  it('is the one pattern the backend uses', () => {
    expect(PHONE_PATTERN.test('0736-1234567')).toBe(true)
    expect(PHONE_PATTERN.test('+86 139 0000 1111')).toBe(true)
    expect(PHONE_PATTERN.test('电话')).toBe(false)
    expect(phone(true).pattern.test('110')).toBe(true)
    expect(phone().pattern.test('110')).toBe(false)
    // The phone pages check the same pattern, leaving an empty number alone.
    expect(vantPhone().validator('0736-1234567')).toBe(true)
    expect(vantPhone().validator('')).toBe(true)
    expect(vantPhone().validator('110')).toBe(false)
    expect(vantPhone().message).toBe(phone().message)
  })
})
