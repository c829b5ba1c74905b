"""The floor: query 1's data fetched by one hand-written SQL statement, the JSON built in
PostgreSQL, through asyncpg. What the API costs is measured against this."""

from __future__ import annotations

FRONTEND_ORDER_TREE_SQL = """
WITH page AS (
    SELECT * FROM sales_order ORDER BY created_at DESC, id DESC LIMIT $1
)
SELECT json_build_object(
  'totalCount', (SELECT count(*) FROM sales_order),
  'nodes', coalesce((SELECT json_agg(n.node ORDER BY n.created_at DESC, n.id DESC) FROM (
    SELECT p.created_at, p.id, json_build_object(
      'id', p.id, 'number', p.number, 'createdAt', p.created_at,
      'businessEntity', (SELECT json_build_object('code', b.code)
                         FROM business_entity b WHERE b.id = p.business_entity_id),
      'accountContact', (
        SELECT json_build_object('id', c.id, 'displayName', c.display_name, 'ancestors', coalesce((
          WITH RECURSIVE up(id, level) AS (
            SELECT c.parent_organization_id, 1 WHERE c.parent_organization_id IS NOT NULL
            UNION ALL
            SELECT x.parent_organization_id, up.level + 1 FROM contact x JOIN up ON x.id = up.id
            WHERE x.parent_organization_id IS NOT NULL
          )
          SELECT json_agg(json_build_object('level', up.level,
                                            'contact', json_build_object('id', a.id, 'displayName', a.display_name))
                          ORDER BY up.level)
          FROM up JOIN contact a ON a.id = up.id), '[]'::json))
        FROM contact c WHERE c.id = p.account_contact_id),
      'endCustomer', (SELECT json_build_object('id', c.id, 'displayName', c.display_name, 'email', c.email)
                      FROM contact c WHERE c.id = p.end_customer_contact_id),
      'channelChain', coalesce((
        SELECT json_agg(json_build_object('position', ch.position,
                                          'contact', json_build_object('id', c.id, 'displayName', c.display_name))
                        ORDER BY ch.position)
        FROM order_channel ch JOIN contact c ON c.id = ch.contact_id WHERE ch.order_id = p.id), '[]'::json),
      'status', (
        SELECT json_build_object('name', s.status, 'label', st.label, 'color', st.color, 'since', s.since,
                                 'slaDeadline', s.sla_deadline, 'isOverdue', coalesce(s.sla_deadline < now(), false))
        FROM entity_current_status s
        JOIN status_workflow_step st ON st.workflow_id = s.workflow_id AND st.status_name = s.status
        WHERE s.entity_type = 'order' AND s.entity_id = p.id),
      'statusHistory', json_build_object(
        'totalCount', (SELECT count(*) FROM status_transition t WHERE t.entity_type = 'order' AND t.entity_id = p.id),
        'nodes', coalesce((SELECT json_agg(json_build_object('fromStatus', t.from_status, 'toStatus', t.to_status,
                                                             'movement', t.movement, 'createdAt', t.created_at)
                                           ORDER BY t.created_at DESC, t.id)
                           FROM (SELECT * FROM status_transition t WHERE t.entity_type = 'order' AND t.entity_id = p.id
                                 ORDER BY t.created_at DESC, t.id LIMIT 20) t), '[]'::json)),
      'lines', coalesce((
        SELECT json_agg(json_build_object('description', l.description, 'quantity', l.quantity,
                                          'unitPrice', l.unit_price, 'discountPercent', l.discount_percent,
                                          'vatRate', l.vat_rate,
                                          'netAmount',
                                          round(l.quantity * l.unit_price * (100 - l.discount_percent) / 100, 2))
                        ORDER BY l.created_at, l.id)
        FROM line_item l WHERE l.order_id = p.id), '[]'::json),
      'totals', (
        SELECT json_build_object(
          'net', coalesce(sum(v.base), 0),
          'vat', coalesce(json_agg(json_build_object('rate', v.rate, 'base', v.base, 'amount', v.amount)
                                   ORDER BY v.rate DESC), '[]'::json),
          'vatTotal', coalesce(sum(v.amount), 0),
          'gross', coalesce(sum(v.base) + sum(v.amount), 0),
          'commissionableNet', coalesce(sum(v.commissionable), 0))
        FROM (
          SELECT l.vat_rate AS rate, sum(l.net) AS base, round(sum(l.net) * l.vat_rate / 100, 2) AS amount,
                 coalesce(sum(l.net) FILTER (WHERE l.is_commissionable), 0) AS commissionable
          FROM (SELECT vat_rate, is_commissionable,
                       round(quantity * unit_price * (100 - discount_percent) / 100, 2) AS net
                FROM line_item WHERE order_id = p.id) l
          GROUP BY l.vat_rate) v),
      'commissions', coalesce((
        SELECT json_agg(json_build_object('level', pc.level, 'rate', pc.rate, 'amount', pc.amount,
                                          'status', json_build_object('name', s.status),
                                          'beneficiary', json_build_object('id', c.id, 'displayName', c.display_name))
                        ORDER BY pc.level)
        FROM partner_commission pc
        JOIN contact c ON c.id = pc.beneficiary_contact_id
        LEFT JOIN entity_current_status s ON s.entity_type = 'partner_commission' AND s.entity_id = pc.id
        WHERE pc.order_id = p.id), '[]'::json),
      'billingState', (
        SELECT CASE WHEN b.billed = 0 THEN 'NOT_BILLED' WHEN b.billed < b.lines THEN 'PARTLY_BILLED'
                    WHEN (SELECT bool_and(i.status = 'paid') FROM invoice i
                          WHERE i.order_id = p.id AND i.kind = 'invoice' AND i.status <> 'credited')
                    THEN 'PAID' ELSE 'BILLED' END
        FROM (SELECT count(*) AS lines,
                     count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM invoice_line il WHERE il.line_item_id = l.id AND il.billing_round IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM invoice_line c WHERE c.credits_line_id = il.id))) AS billed
              FROM line_item l WHERE l.order_id = p.id) b),
      'invoices', coalesce((
        SELECT json_agg(json_build_object(
                          'number', i.number, 'issueDate', i.issue_date, 'dueDate', i.due_date,
                          'grossAmount', i.gross_amount,
                          'openAmount', i.gross_amount + coalesce((SELECT sum(cn.gross_amount) FROM invoice cn
                                                                   WHERE cn.credits_invoice_id = i.id), 0),
                          'status', json_build_object('name', s.status))
                        ORDER BY i.created_at, i.number)
        FROM invoice i
        LEFT JOIN entity_current_status s ON s.entity_type = 'invoice' AND s.entity_id = i.id
        WHERE i.order_id = p.id AND i.kind = 'invoice'), '[]'::json),
      'quotes', coalesce((
        SELECT json_agg(json_build_object('number', q.number, 'revision', q.revision, 'validUntil', q.valid_until,
                                          'status', json_build_object('name', s.status))
                        ORDER BY q.revision)
        FROM quote a JOIN quote q ON q.series_id = a.series_id
        LEFT JOIN entity_current_status s ON s.entity_type = 'quote' AND s.entity_id = q.id
        WHERE a.order_id = p.id), '[]'::json),
      'visits', coalesce((
        SELECT json_agg(json_build_object(
                          'visitType', upper(v.visit_type), 'startsAt', v.starts_at, 'endsAt', v.ends_at,
                          'status', json_build_object('name', s.status),
                          'installers', coalesce((
                            SELECT json_agg(json_build_object('id', c.id, 'displayName', c.display_name)
                                            ORDER BY vi.installer_contact_id)
                            FROM visit_installer vi JOIN contact c ON c.id = vi.installer_contact_id
                            WHERE vi.visit_id = v.id), '[]'::json))
                        ORDER BY v.starts_at, v.id)
        FROM visit v
        LEFT JOIN entity_current_status s ON s.entity_type = 'visit' AND s.entity_id = v.id
        WHERE v.order_id = p.id), '[]'::json),
      'workOrders', coalesce((
        SELECT json_agg(json_build_object(
                          'number', w.number, 'status', json_build_object('name', s.status),
                          'tasks', coalesce((
                            SELECT json_agg(json_build_object('description', t.description,
                                                              'done', t.done_at IS NOT NULL) ORDER BY t.position)
                            FROM work_order_task t WHERE t.work_order_id = w.id), '[]'::json),
                          'seals', coalesce((
                            SELECT json_agg(json_build_object('sealNumber', u.seal_number, 'action', upper(u.action))
                                            ORDER BY u.recorded_at, u.seal_number)
                            FROM seal_usage u WHERE u.work_order_id = w.id), '[]'::json))
                        ORDER BY w.created_at, w.id)
        FROM work_order w
        LEFT JOIN entity_current_status s ON s.entity_type = 'work_order' AND s.entity_id = w.id
        WHERE w.order_id = p.id), '[]'::json),
      'documents', coalesce((
        SELECT json_agg(json_build_object('fileName', d.file_name, 'category', upper(d.category),
                                          'contentType', d.content_type, 'sizeBytes', d.size_bytes)
                        ORDER BY d.created_at, d.id)
        FROM document d WHERE d.order_id = p.id), '[]'::json)
    ) AS node
    FROM page p
  ) n), '[]'::json)
)::text
"""
