import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from './stores/session'
// Every page is its own chunk. The phone pages (src/mobile/) and the login page are precached by the service worker
// (vite.config.ts), so they open with no signal; office pages, with Element Plus, load only on an office PC.
const MobileLayout = () => import('./mobile/MobileLayout.vue')
const MobileHome = () => import('./mobile/MobileHome.vue')
const ReportActivity = () => import('./mobile/ReportActivity.vue')
const FollowUps = () => import('./mobile/FollowUps.vue')
const FollowUpVisit = () => import('./mobile/FollowUpVisit.vue')
const RegisterWoman = () => import('./mobile/RegisterWoman.vue')
const VolunteerHours = () => import('./mobile/VolunteerHours.vue')
const OutboxView = () => import('./mobile/OutboxView.vue')
const ChildRegister = () => import('./mobile/ChildRegister.vue')
const CarerHome = () => import('./mobile/CarerHome.vue')
const PairingsDue = () => import('./mobile/PairingsDue.vue')
const VisitRecord = () => import('./mobile/VisitRecord.vue')

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    /** Shown only to users holding this permission. */
    perm?: string
    title?: string
  }
}

export const officeRoutes: RouteRecordRaw[] = [
  {
    path: 'dashboard',
    component: () => import('./views/dashboard/DashboardView.vue'),
    meta: { title: '工作台', perm: 'reports:read' },
  },
  {
    path: 'branches',
    component: () => import('./views/branches/BranchesView.vue'),
    meta: { title: '组织与换届', perm: 'branches:read' },
  },
  {
    path: 'members',
    component: () => import('./views/members/MembersView.vue'),
    meta: { title: '干部执委', perm: 'members:read' },
  },
  {
    path: 'activities',
    component: () => import('./views/activities/ActivitiesView.vue'),
    meta: { title: '活动台账', perm: 'activities:read' },
  },
  {
    path: 'volunteers',
    component: () => import('./views/volunteers/VolunteersView.vue'),
    meta: { title: '巾帼志愿', perm: 'volunteers:read' },
  },
  {
    path: 'tickets',
    component: () => import('./views/tickets/TicketsView.vue'),
    meta: { title: '12338 维权', perm: 'tickets:read' },
  },
  {
    path: 'tickets/:id',
    component: () => import('./views/tickets/TicketDetailView.vue'),
    meta: { title: '工单', perm: 'tickets:read' },
  },
  {
    path: 'screening',
    component: () => import('./views/screening/ScreeningView.vue'),
    meta: { title: '两癌筛查', perm: 'women:read' },
  },
  {
    path: 'screening-plans',
    component: () => import('./views/plans/ScreeningPlansView.vue'),
    meta: { title: '筛查计划', perm: 'screenings:read' },
  },
  {
    path: 'children',
    component: () => import('./views/children/ChildrenView.vue'),
    meta: { title: '儿童档案', perm: 'children:read' },
  },
  {
    path: 'children-homes',
    component: () => import('./views/children/HomesView.vue'),
    meta: { title: '儿童之家', perm: 'homes:read' },
  },
  {
    path: 'pairings',
    component: () => import('./views/children/PairingsView.vue'),
    meta: { title: '结对帮扶', perm: 'pairings:read' },
  },
  {
    path: 'imports',
    component: () => import('./views/imports/ImportsView.vue'),
    meta: { title: 'Excel 导入', perm: 'jobs:read' },
  },
  {
    path: 'users',
    component: () => import('./views/users/UsersView.vue'),
    meta: { title: '用户管理', perm: 'users:admin' },
  },
  {
    path: 'settings',
    component: () => import('./views/settings/SettingsView.vue'),
    meta: { title: '时限与日历', perm: 'settings:admin' },
  },
  {
    path: 'audit',
    component: () => import('./views/audit/AuditView.vue'),
    meta: { title: '审计日志', perm: 'audit:read' },
  },
  {
    path: 'webhooks',
    component: () => import('./views/integrations/WebhooksView.vue'),
    meta: { title: '事件订阅', perm: 'webhooks:admin' },
  },
]

const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('./views/LoginView.vue'), meta: { public: true, title: '登录' } },
  { path: '/', component: () => import('./OfficeShell.vue'), children: officeRoutes },
  {
    path: '/m',
    component: MobileLayout,
    children: [
      { path: '', component: MobileHome, meta: { title: '我的任务' } },
      { path: 'activity', component: ReportActivity, meta: { title: '报活动', perm: 'activities:write' } },
      { path: 'followups', component: FollowUps, meta: { title: '随访任务', perm: 'followups:write' } },
      { path: 'followups/:id', component: FollowUpVisit, meta: { title: '记录走访', perm: 'followups:write' } },
      { path: 'woman', component: RegisterWoman, meta: { title: '登记筛查对象', perm: 'women:write' } },
      { path: 'hours', component: VolunteerHours, meta: { title: '报志愿时长', perm: 'volunteers:write' } },
      { path: 'child', component: ChildRegister, meta: { title: '登记儿童', perm: 'children:write' } },
      { path: 'children', component: CarerHome, meta: { title: '我结对的孩子', perm: 'children:visit' } },
      { path: 'pairings', component: PairingsDue, meta: { title: '结对走访', perm: 'pairings:read' } },
      { path: 'visit/:pairing', component: VisitRecord, meta: { title: '记录走访', perm: 'pairings:visit' } },
      { path: 'outbox', component: OutboxView, meta: { title: '待发送' } },
    ],
  },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  const session = useSession()
  if (to.meta.public) {
    if (to.path === '/login' && (await session.restore())) return session.home
    return true
  }
  if (!(await session.restore())) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (to.path === '/') return session.home
  if (to.meta.perm && !session.can(to.meta.perm)) return session.home === to.path ? '/m' : session.home
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 半边天` : '半边天 · 妇联工作系统'
})
