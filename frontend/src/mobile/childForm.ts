/**
 * The phone forms of the children's work: the rules a child's registration and a visit are checked with before
 * anything is sent (each message names its field), and what a carer's list says about who is due.
 */
import { PHONE_MESSAGE, vantPhone } from '@/composables/rules'
import { todayChina, validIdNumber } from '@/utils'

/** The registry takes children under 16 (the sweep moves them out at 16). */
export const AGE_OUT_AT = 16

/** Birth date (YYYY-MM-DD) and sex of a valid 18-digit resident ID number; null for anything else. */
export function fromIdNumber(raw: string): { birth: string; sex: 'male' | 'female' } | null {
  const v = (raw ?? '').trim().toUpperCase()
  if (!validIdNumber(v)) return null
  const birth = `${v.slice(6, 10)}-${v.slice(10, 12)}-${v.slice(12, 14)}`
  return { birth, sex: Number(v[16]) % 2 ? 'male' : 'female' }
}

/** Whole years from a birth date to a day, both YYYY-MM-DD. */
export function ageOn(birth: string, day: string): number {
  const [by, bm, bd] = birth.split('-').map(Number)
  const [y, m, d] = day.split('-').map(Number)
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0)
}

/** The phone rule with the field's own name in its message, e.g. "监护人电话只能包含数字、+、- 和空格". */
export const namedPhone = (label: string) => ({ ...vantPhone(), message: PHONE_MESSAGE.replace(/^电话/, label) })

type Rule = { required?: boolean; message: string; validator?: (v: string) => boolean }

export function childRules(today = todayChina()): Record<string, Rule[]> {
  return {
    name: [{ required: true, message: '请填写儿童姓名' }],
    id_number: [
      { required: true, message: '请填写儿童身份证号' },
      {
        validator: (v) => validIdNumber((v ?? '').trim().toUpperCase()),
        message: '儿童身份证号不正确,请核对 18 位号码',
      },
      {
        validator: (v) => {
          const parsed = fromIdNumber(v)
          return !parsed || (parsed.birth <= today && ageOn(parsed.birth, today) < AGE_OUT_AT)
        },
        message: `按身份证号已满 ${AGE_OUT_AT} 周岁或出生日期不对,不列入留守儿童名册`,
      },
    ],
    category: [{ required: true, message: '请选择儿童类别' }],
    guardian_phone: [namedPhone('监护人电话')],
    father_phone: [namedPhone('父亲电话')],
    mother_phone: [namedPhone('母亲电话')],
  }
}

/**
 * Check a form model against rules the way the Vant form does (first failing rule per field): the messages by field.
 * The phone pages draw these at their fields; the tests call it directly.
 */
export function checkRules(rules: Record<string, Rule[]>, model: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [field, list] of Object.entries(rules)) {
    const value = String(model[field] ?? '')
    for (const rule of list) {
      const failed = rule.required ? !value.trim() : !!rule.validator && !rule.validator(value)
      if (failed) {
        out[field] = rule.message
        break
      }
    }
  }
  return out
}

export interface ChildModel {
  name: string
  id_number: string
  sex: string
  category: string
  school: string
  grade: string
  guardian_relation: string
  guardian_name: string
  guardian_phone: string
  father_work_place: string
  father_city: string
  father_phone: string
  mother_work_place: string
  mother_city: string
  mother_phone: string
  needs: string[]
  branch_id: string
}

export const blankChild = (): ChildModel => ({
  name: '',
  id_number: '',
  sex: '',
  category: 'left_behind_both_parents',
  school: '',
  grade: '',
  guardian_relation: 'grandparent',
  guardian_name: '',
  guardian_phone: '',
  father_work_place: '',
  father_city: '',
  father_phone: '',
  mother_work_place: '',
  mother_city: '',
  mother_phone: '',
  needs: [],
  branch_id: '',
})

/** What the outbox keeps and the sender posts: empty texts left out, the special needs as three switches. */
export function childPayload(m: ChildModel): Record<string, unknown> {
  const text = (v: string) => v.trim() || undefined
  return {
    name: m.name.trim(),
    id_number: m.id_number.trim().toUpperCase(),
    sex: m.sex || undefined,
    category: m.category,
    branch_id: m.branch_id ? Number(m.branch_id) : undefined,
    school: text(m.school),
    grade: text(m.grade),
    guardian_relation: m.guardian_relation || undefined,
    guardian_name: text(m.guardian_name),
    guardian_phone: text(m.guardian_phone),
    father_work_place: m.father_work_place || undefined,
    father_city: text(m.father_city),
    father_phone: text(m.father_phone),
    mother_work_place: m.mother_work_place || undefined,
    mother_city: text(m.mother_city),
    mother_phone: text(m.mother_phone),
    disability: m.needs.includes('disability'),
    serious_illness: m.needs.includes('serious_illness'),
    out_of_school: m.needs.includes('out_of_school'),
  }
}

export const SPECIAL_NEEDS = [
  { value: 'disability', label: '残疾' },
  { value: 'serious_illness', label: '重病' },
  { value: 'out_of_school', label: '失学辍学' },
]

export function visitRules(today = todayChina()): Record<string, Rule[]> {
  return {
    visited_on: [
      { required: true, message: '请选择走访日期' },
      { validator: (v) => !v || v <= today, message: '走访日期不能晚于今天' },
    ],
    mode: [{ required: true, message: '请选择走访方式' }],
    done: [{ required: true, message: '请填写走访做了什么' }],
  }
}

export interface VisitModel {
  visited_on: string
  mode: string
  done: string
  study: string
  health: string
  mood: string
  problems: string
  rights_issue: boolean
}

export const blankVisit = (today = todayChina()): VisitModel => ({
  visited_on: today,
  mode: 'home',
  done: '',
  study: '',
  health: '',
  mood: '',
  problems: '',
  rights_issue: false,
})

/** The visit's messages by field; a rights issue must say what was found (it becomes a 12338 ticket). */
export function checkVisit(m: VisitModel, today = todayChina()): Record<string, string> {
  const out = checkRules(visitRules(today), m as unknown as Record<string, unknown>)
  if (m.rights_issue && !m.problems.trim()) out.problems = '发现权益问题时请写明发现的问题'
  return out
}

export function visitPayload(pairingId: number, m: VisitModel): Record<string, unknown> {
  const text = (v: string) => v.trim() || undefined
  return {
    pairing_id: pairingId,
    visited_on: m.visited_on,
    mode: m.mode,
    done: text(m.done),
    study: m.study || undefined,
    health: m.health || undefined,
    mood: m.mood || undefined,
    problems: text(m.problems),
    rights_issue: m.rights_issue,
  }
}

/** Where a paired child stands: a visit overdue (due day passed), due within a week, or not yet due. */
export function dueState(nextDue: string | null | undefined, today = todayChina()): 'overdue' | 'due' | 'ok' {
  if (!nextDue) return 'due'
  if (nextDue < today) return 'overdue'
  const week = new Date(`${today}T00:00:00Z`)
  week.setUTCDate(week.getUTCDate() + 7)
  return nextDue <= week.toISOString().slice(0, 10) ? 'due' : 'ok'
}
