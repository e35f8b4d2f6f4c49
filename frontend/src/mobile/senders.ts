/**
 * How each phone form is sent from the outbox. Every POST carries an Idempotency-Key derived from the form's own
 * key (one per step), so a resend after a lost answer replays the first result instead of making a second record.
 */
import { api, ok } from '@/api/client'
import type { components } from '@/api/schema'
import { registerSender, toFile, type OutboxItem, type SendContext } from '@/api/outbox'

type VisitCreate = components['schemas']['VisitCreate']

const key = (item: OutboxItem, step = '') => ({ 'Idempotency-Key': step ? `${item.key}:${step}` : item.key })

export interface ActivityForm {
  type: string
  title: string
  starts_at: string
  venue?: string
  participants?: number
  households?: number
  target_group?: string
}

export async function sendActivity(item: OutboxItem, ctx: SendContext) {
  const p = item.payload as unknown as ActivityForm
  let id = item.progress.activityId as number | undefined
  if (!id) {
    const created = await ok(
      api.POST('/api/v1/activities', {
        body: {
          type: p.type as never,
          title: p.title,
          starts_at: p.starts_at,
          venue: p.venue || null,
          participants: p.participants ?? null,
          households: p.households ?? null,
          target_group: p.target_group || null,
          status: 'held',
        },
        headers: key(item),
      }),
    )
    id = created.id
    await ctx.save({ activityId: id })
  }
  for (const [i, stored] of item.files.entries()) {
    if (item.progress[`photo${i}`]) continue
    const form = new FormData()
    form.append('file', toFile(stored))
    await ok(
      api.POST('/api/v1/activities/{activity_id}/photos', {
        params: { path: { activity_id: id } },
        body: form as never,
        bodySerializer: (b: unknown) => b as FormData,
        headers: key(item, `photo${i}`),
      }),
    )
    await ctx.save({ [`photo${i}`]: true })
  }
  if (p.participants && !item.progress.signIn) {
    await ok(
      api.POST('/api/v1/activities/{activity_id}/sign-ins', {
        params: { path: { activity_id: id } },
        body: { head_count: p.participants },
        headers: key(item, 'sign-in'),
      }),
    )
    await ctx.save({ signIn: true })
  }
}

export async function sendVisit(item: OutboxItem) {
  const p = item.payload as { follow_up_id: number; reached: boolean; note?: string; visited_at: string }
  await ok(
    api.POST('/api/v1/follow-ups/{follow_up_id}/actions/visit', {
      params: { path: { follow_up_id: p.follow_up_id } },
      body: { reached: p.reached, note: p.note || null, visited_at: p.visited_at },
      headers: key(item),
    }),
  )
}

export async function sendWoman(item: OutboxItem) {
  const p = item.payload as { name: string; id_number: string; phone?: string; hardship_status: string }
  await ok(
    api.POST('/api/v1/women', {
      body: {
        name: p.name,
        id_number: p.id_number,
        phone: p.phone || null,
        hardship_status: p.hardship_status as never,
      },
      headers: key(item),
    }),
  )
}

export async function sendHours(item: OutboxItem) {
  const p = item.payload as { volunteer_id: number; date: string; hours: number; target_group: string; note?: string }
  await ok(
    api.POST('/api/v1/service-records', {
      body: {
        volunteer_id: p.volunteer_id,
        date: p.date,
        hours: p.hours,
        target_group: p.target_group as never,
        note: p.note || null,
      },
      headers: key(item),
    }),
  )
}

export async function sendChild(item: OutboxItem) {
  const body = item.payload as unknown as components['schemas']['ChildCreate']
  await ok(api.POST('/api/v1/children', { body, headers: key(item) }))
}

/** A pairing's visit, then its photos one by one: a resend after a lost answer continues with the next photo. */
export async function sendChildVisit(item: OutboxItem, ctx: SendContext) {
  const { pairing_id, ...body } = item.payload as unknown as { pairing_id: number } & VisitCreate
  const path = { pairing_id }
  let visitId = item.progress.visitId as number | undefined
  if (!visitId) {
    const created = await ok(
      api.POST('/api/v1/pairings/{pairing_id}/visits', { params: { path }, body, headers: key(item) }),
    )
    visitId = created.id
    await ctx.save({ visitId })
  }
  for (const [i, stored] of item.files.entries()) {
    if (item.progress[`photo${i}`]) continue
    const form = new FormData()
    form.append('file', toFile(stored))
    await ok(
      api.POST('/api/v1/pairings/{pairing_id}/visits/{visit_id}/photos', {
        params: { path: { ...path, visit_id: visitId } },
        body: form as never,
        bodySerializer: (b: unknown) => b as FormData,
        headers: key(item, `photo${i}`),
      }),
    )
    await ctx.save({ [`photo${i}`]: true })
  }
}

registerSender('activity', sendActivity)
registerSender('visit', sendVisit)
registerSender('woman', sendWoman)
registerSender('hours', sendHours)
registerSender('child', sendChild)
registerSender('child-visit', sendChildVisit)
