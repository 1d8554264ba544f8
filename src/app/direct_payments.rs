//! Direct payments: instalments paid in, spending and receipts, the audit and the surplus test.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::bookings::plan_for;
use super::{App, AppError, AppResult, records};
use crate::db::budget_holders::{self, HolderRow};
use crate::db::direct_payments::{
    self as dp, DirectPayment, DirectPaymentQuarter, NewSpending, PaidIn, SpendingRow, StoredReceipt,
};
use crate::db::ledger::{self, Movement};
use crate::db::reports::QuarterlyReturn;
use crate::db::{Conn, councils, now};
use crate::domain::booking::LedgerKind;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::reports::Quarter;
use crate::domain::sessions::london_date;
use crate::domain::spending::{
    ReceiptType, SpendingInput, SpendingStatus, SurplusTest, ValidSpending, instalment_amount, receipt_hash,
    surplus_test,
};
use crate::domain::validate::{FieldError, Invalid, text};
use crate::domain::{Actor, AllocationId, BudgetHolderId, Management, Pence, Role, SpendingId};

/// The daily job that pays in every instalment due.
pub const DIRECT_PAYMENTS: &str = "direct_payments";

pub const READ_SPENDING: &str = "read direct-payment spending";
pub const READ_RECEIPT: &str = "read receipt";
pub const READ_SURPLUS: &str = "read surplus test";
pub const AUDITED: &str = "audited spending";
pub const RECOVERED: &str = "recovered direct payment";

/// England's date today: instalments fall due on England's calendar.
pub fn london_today() -> NaiveDate {
    london_date(now())
}

/// Pay in every instalment due by `today` on the direct payments of `holder` (or of every plan),
/// each with its ledger entry. An instalment another server already paid is skipped. Returns
/// whether any was paid.
pub fn pay_in_due(conn: &mut Conn, today: NaiveDate, holder: Option<BudgetHolderId>) -> AppResult<bool> {
    let mut any = false;
    for a in dp::allocations(conn, holder)? {
        any |= pay_in_allocation(conn, &a, today)?;
    }
    Ok(any)
}

fn pay_in_allocation(conn: &mut Conn, a: &DirectPayment, today: NaiveDate) -> AppResult<bool> {
    let schedule = a.schedule.instalments(a.plan_start, a.plan_end);
    let paid = dp::paid_in(conn, a.allocation)?;
    let mut paid_count = paid.len();
    let mut paid_net = Pence::from_stored(paid.iter().map(|p| p.amount.pence()).sum::<i64>())
        .saturating_sub(dp::recovered(conn, a.allocation)?);
    let mut any = false;
    for instalment in schedule.iter().filter(|i| i.due_on <= today) {
        if paid.iter().any(|p| p.instalment == instalment.index) {
            continue;
        }
        let left = schedule.len().saturating_sub(paid_count);
        let amount = instalment_amount(a.amount, paid_net, left);
        if !dp::record_paid_in(conn, a.allocation, *instalment, amount)? {
            continue;
        }
        let balance_after = budget_holders::remaining(conn, a.allocation)?;
        ledger::append(
            conn,
            Movement {
                allocation: a.allocation,
                kind: LedgerKind::PaidIn,
                balance_after,
                description: &format!("Direct payment {} of {} paid in", instalment.index + 1, schedule.len()),
                cash_change: amount.credit(),
                ..Movement::default()
            },
        )?;
        paid_count += 1;
        paid_net = Pence::from_stored(paid_net.pence() + amount.pence());
        any = true;
    }
    Ok(any)
}

/// Where receipts are kept: `<data dir>/receipts/ab/<sha-256>`, outside any web root.
#[derive(Debug, Clone)]
pub struct ReceiptStore(pub PathBuf);

impl ReceiptStore {
    fn path(&self, hash: &str) -> AppResult<PathBuf> {
        let valid = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(AppError::not_found("receipt"));
        }
        Ok(self.0.join(&hash[..2]).join(hash))
    }

    /// Keep a receipt once, by its content: the same receipt twice is one file.
    fn put(&self, kind: ReceiptType, bytes: &[u8]) -> AppResult<StoredReceipt> {
        let hash = receipt_hash(bytes);
        let path = self.path(&hash)?;
        if !path.exists() {
            let dir = path.parent().unwrap_or(Path::new("."));
            let io = |e: std::io::Error| AppError::Internal(format!("cannot store a receipt: {e}"));
            std::fs::create_dir_all(dir).map_err(io)?;
            // Written aside and renamed, so a reader never sees half a receipt.
            let aside = dir.join(format!(".{hash}.{}", crate::domain::hex(&rand::random::<[u8; 8]>())));
            let mut file = std::fs::File::create(&aside).map_err(io)?;
            file.write_all(bytes).and_then(|_| file.sync_all()).map_err(io)?;
            std::fs::rename(&aside, &path).map_err(io)?;
        }
        Ok(StoredReceipt {
            hash,
            content_type: kind.as_str().to_string(),
            bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        })
    }

    /// Keep a spending's receipt, before its row is written: a file nobody refers to is
    /// harmless, a row pointing at no file is not.
    pub(crate) fn keep(&self, valid: &ValidSpending) -> AppResult<Option<StoredReceipt>> {
        match &valid.receipt {
            Some((kind, bytes)) => Ok(Some(self.put(*kind, bytes)?)),
            None => Ok(None),
        }
    }

    fn get(&self, hash: &str) -> AppResult<Vec<u8>> {
        std::fs::read(self.path(hash)?).map_err(|_| AppError::not_found("receipt"))
    }
}

/// The family's own plan (403 to anyone else, its council and broker included: only the family
/// records what it spent).
fn familys_plan(conn: &mut Conn, actor: &Actor, id: BudgetHolderId) -> AppResult<HolderRow> {
    let row = plan_for(conn, actor, id)?;
    if actor.role != Role::Family {
        return Err(AppError::forbidden(
            "only the family records its direct-payment spending",
        ));
    }
    Ok(row)
}

/// The plan, for its family or its council only.
fn family_or_council(actor: &Actor) -> AppResult<()> {
    match actor.role {
        Role::Family | Role::Council => Ok(()),
        _ => Err(AppError::forbidden(
            "only the family and its council see direct-payment spending",
        )),
    }
}

/// A family records spending from its direct payment. The council's audit rule decides at once
/// whether it is sampled (held as committed for review) or accepted (spent).
pub async fn record_spending(
    app: &App,
    actor: &Actor,
    holder: BudgetHolderId,
    input: SpendingInput,
) -> AppResult<SpendingRow> {
    let valid = input.validate(london_today())?;
    let actor = actor.clone();
    let store = app.receipts.clone();
    app.blocking(move |app| {
        let receipt = store.keep(&valid)?;
        app.db
            .write_as(move |conn| record_in(conn, &actor, holder, &valid, receipt.as_ref()))
    })
    .await
}

/// Record spending inside the caller's transaction (the demo loader's too), its receipt already
/// kept (see [`ReceiptStore::keep`]).
pub(crate) fn record_in(
    conn: &mut Conn,
    actor: &Actor,
    holder: BudgetHolderId,
    valid: &ValidSpending,
    receipt: Option<&StoredReceipt>,
) -> AppResult<SpendingRow> {
    let row = familys_plan(conn, actor, holder)?;
    let allocations: Vec<_> = budget_holders::allocations_of(conn, holder)?
        .into_iter()
        .filter(|a| a.management == Management::DirectPayment)
        .collect();
    let allocation = match valid.allocation_id {
        Some(id) => allocations
            .iter()
            .find(|a| a.id.0 == id)
            .ok_or_else(|| AppError::unknown("allocation_id", "is not a direct payment of this plan"))?,
        None => match allocations.as_slice() {
            [only] => only,
            [] => return Err(Invalid::one("allocation_id", "this plan has no direct payment").into()),
            _ => {
                return Err(Invalid::one("allocation_id", "is needed: this plan has several direct payments").into());
            }
        },
    };
    if valid.spent_on < row.plan_start || valid.spent_on > row.plan_end {
        return Err(Invalid::one("spent_on", "must be within the plan's dates").into());
    }
    if let Some(outcome) = valid.plan_outcome_id {
        let plan = budget_holders::view(conn, row.clone())?;
        if !plan.outcomes.iter().any(|o| o.id.0 == outcome) {
            return Err(AppError::unknown("plan_outcome_id", "is not an outcome of this plan"));
        }
    }
    let rule = councils::settings(conn, crate::domain::CouncilId(row.council_id))?.audit;
    let id = dp::insert_spending(
        conn,
        &NewSpending {
            budget_holder_id: holder,
            allocation: allocation.id,
            payee: &valid.payee,
            spent_on: valid.spent_on,
            amount: valid.amount,
            description: &valid.description,
            plan_outcome_id: valid.plan_outcome_id.map(crate::domain::PlanOutcomeId),
            receipt,
            status: SpendingStatus::InReview,
            sampled: true,
            recorded_by: actor.user_id,
        },
    )?;
    let sampled = rule.sampled(valid.amount, &id.0.to_string());
    let (taken, balance) = if sampled {
        budget_holders::debit(conn, allocation.id, valid.amount)?
    } else {
        budget_holders::spend_remaining(conn, allocation.id, valid.amount)?
    };
    if !taken {
        return Err(AppError::conflict(
            "insufficient_funds",
            format!("only {balance} is left on this direct payment"),
            Some("amount"),
        ));
    }
    if !sampled {
        dp::set_status(conn, id, SpendingStatus::Accepted, false)?;
    }
    ledger::append(
        conn,
        Movement {
            allocation: allocation.id,
            kind: LedgerKind::Spending,
            amount: valid.amount.debit(),
            balance_after: balance,
            description: &format!("Spending recorded: {}", valid.payee),
            spent_change: if sampled {
                Default::default()
            } else {
                valid.amount.credit()
            },
            spending: Some(id),
            ..Movement::default()
        },
    )?;
    dp::load(conn, id)?.ok_or_else(|| AppError::not_found("spending"))
}

/// One page of a plan's spending, newest first: for the family and its council.
pub async fn spending_of(
    app: &App,
    actor: &Actor,
    holder: BudgetHolderId,
    page: PageRequest,
) -> AppResult<Page<SpendingRow>> {
    family_or_council(actor)?;
    records::read_plan(app, actor, holder, READ_SPENDING, move |conn, _| {
        Ok(dp::of_holder(conn, holder, page)?)
    })
    .await
}

/// A receipt's bytes and stored type, for the family and its council.
pub async fn receipt(app: &App, actor: &Actor, id: SpendingId) -> AppResult<(String, Vec<u8>)> {
    family_or_council(actor)?;
    let spending = app
        .read(move |conn| dp::load(conn, id)?.ok_or_else(|| AppError::not_found("spending")))
        .await?;
    let (Some(hash), Some(kind)) = (spending.receipt_hash.clone(), spending.receipt_type.clone()) else {
        return Err(AppError::not_found("receipt"));
    };
    let holder = BudgetHolderId(spending.budget_holder_id);
    records::read_plan(app, actor, holder, READ_RECEIPT, |_, _| Ok(())).await?;
    let store = app.receipts.clone();
    let bytes = app.blocking(move |_| store.get(&hash)).await?;
    Ok((kind, bytes))
}

/// The council's audit queue: its area's spending in `status` (in review or queried), oldest first.
pub async fn audit_queue(
    app: &App,
    actor: &Actor,
    status: SpendingStatus,
    page: PageRequest,
) -> AppResult<Page<SpendingRow>> {
    let council = actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    if status == SpendingStatus::Accepted {
        return Err(AppError::BadParameter {
            field: "status".into(),
            message: "must be in_review or queried".into(),
        });
    }
    let queue = app
        .read(move |conn| Ok(dp::of_council(conn, council, status, page)?))
        .await?;
    records::record_listed(
        app,
        actor,
        queue.items.iter().map(|s| BudgetHolderId(s.budget_holder_id)),
        READ_SPENDING,
    )
    .await?;
    Ok(queue)
}

/// The spending and its plan, for its council's officer (404 for another council's, as plans).
fn councils_spending(conn: &mut Conn, actor: &Actor, id: SpendingId) -> AppResult<(SpendingRow, HolderRow)> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    let spending = dp::load(conn, id)?.ok_or_else(|| AppError::not_found("spending"))?;
    let row = plan_for(conn, actor, BudgetHolderId(spending.budget_holder_id))?;
    Ok((spending, row))
}

fn not_in(status: SpendingStatus, verb: &str) -> AppError {
    AppError::conflict(
        "wrong_status",
        format!(
            "spending that is {} cannot be {verb}",
            status.as_str().replace('_', " ")
        ),
        None,
    )
}

/// The council accepts spending in review or queried: its money moves from committed to spent.
pub async fn accept(app: &App, actor: &Actor, id: SpendingId) -> AppResult<SpendingRow> {
    let actor = actor.clone();
    app.write(move |conn| {
        let (spending, row) = councils_spending(conn, &actor, id)?;
        let from = [SpendingStatus::InReview, SpendingStatus::Queried];
        if !dp::transition(conn, id, &from, SpendingStatus::Accepted, actor.user_id, None)? {
            return Err(not_in(spending.status(), "accepted"));
        }
        let allocation = AllocationId(spending.allocation_id);
        if !budget_holders::spend(conn, allocation, spending.amount())? {
            return Err(AppError::Internal("spending in review is not held as committed".into()));
        }
        let balance_after = budget_holders::remaining(conn, allocation)?;
        ledger::append(
            conn,
            Movement {
                allocation,
                kind: LedgerKind::SpendingAccepted,
                balance_after,
                description: &format!("Spending accepted: {}", spending.payee),
                spent_change: spending.amount().credit(),
                spending: Some(id),
                ..Movement::default()
            },
        )?;
        records::record_change(conn, &actor, &row, AUDITED)?;
        dp::load(conn, id)?.ok_or_else(|| AppError::not_found("spending"))
    })
    .await
}

/// The council asks the family about spending in review; the money stays committed.
pub async fn query(app: &App, actor: &Actor, id: SpendingId, question: &str) -> AppResult<SpendingRow> {
    let question = text("question", question, 1, 1000)?;
    let actor = actor.clone();
    app.write(move |conn| {
        let (spending, row) = councils_spending(conn, &actor, id)?;
        let from = [SpendingStatus::InReview];
        if !dp::transition(
            conn,
            id,
            &from,
            SpendingStatus::Queried,
            actor.user_id,
            Some((&question, true)),
        )? {
            return Err(not_in(spending.status(), "queried"));
        }
        records::record_change(conn, &actor, &row, AUDITED)?;
        dp::load(conn, id)?.ok_or_else(|| AppError::not_found("spending"))
    })
    .await
}

/// The family answers the council's question: the spending goes back to review.
pub async fn answer(app: &App, actor: &Actor, id: SpendingId, answer: &str) -> AppResult<SpendingRow> {
    let answer = text("answer", answer, 1, 1000)?;
    let actor = actor.clone();
    app.write(move |conn| {
        let spending = dp::load(conn, id)?.ok_or_else(|| AppError::not_found("spending"))?;
        familys_plan(conn, &actor, BudgetHolderId(spending.budget_holder_id))?;
        let from = [SpendingStatus::Queried];
        if !dp::transition(
            conn,
            id,
            &from,
            SpendingStatus::InReview,
            actor.user_id,
            Some((&answer, false)),
        )? {
            return Err(not_in(spending.status(), "answered"));
        }
        dp::load(conn, id)?.ok_or_else(|| AppError::not_found("spending"))
    })
    .await
}

/// One direct payment's account: what was paid in and the surplus test today.
#[derive(Debug, Clone)]
pub struct Account {
    pub allocation_id: AllocationId,
    pub stream: crate::domain::Stream,
    pub schedule: crate::domain::spending::PaymentSchedule,
    pub instalments: usize,
    pub paid_in: Vec<PaidIn>,
    pub recovered: Pence,
    pub test: SurplusTest,
}

/// The accounts of a plan's direct payments as they stand at the end of `on`.
pub(crate) fn accounts(conn: &mut Conn, row: &HolderRow, on: NaiveDate) -> AppResult<Vec<Account>> {
    let holder = BudgetHolderId(row.id);
    let mut out = Vec::new();
    let plan_days = (row.plan_end - row.plan_start).num_days() + 1;
    for a in budget_holders::allocations_of(conn, holder)? {
        if a.management != Management::DirectPayment {
            continue;
        }
        let paid_in: Vec<PaidIn> = dp::paid_in(conn, a.id)?
            .into_iter()
            .filter(|p| london_date(p.paid_at) <= on)
            .collect();
        let recovered = dp::recovered(conn, a.id)?;
        let gross = paid_in.iter().map(|p| p.amount.pence()).sum::<i64>();
        let spending: i64 = dp::of_allocation(conn, a.id)?
            .iter()
            .filter(|s| s.spent_on <= on)
            .map(|s| s.amount_pence)
            .sum();
        let invoices: i64 = dp::family_paid_invoices(conn, a.id)?
            .iter()
            .filter(|i| i.paid_on.is_none_or(|d| d <= on))
            .map(|i| i.amount.pence())
            .sum();
        let test = surplus_test(
            a.amount,
            plan_days,
            Pence::from_stored(gross).saturating_sub(recovered),
            Pence::from_stored(spending + invoices),
        );
        out.push(Account {
            allocation_id: a.id,
            stream: a.stream,
            schedule: a.payment_schedule,
            instalments: a.payment_schedule.instalments(row.plan_start, row.plan_end).len(),
            paid_in,
            recovered,
            test,
        });
    }
    Ok(out)
}

/// A plan's direct-payment accounts and surplus tests today: for the family and its council.
pub async fn surplus(app: &App, actor: &Actor, holder: BudgetHolderId) -> AppResult<Vec<Account>> {
    family_or_council(actor)?;
    records::read_plan(app, actor, holder, READ_SURPLUS, |conn, row| {
        accounts(conn, &row, london_today())
    })
    .await
}

/// The council reclaims money from a direct-payment account, at most the surplus.
pub async fn recover(
    app: &App,
    actor: &Actor,
    holder: BudgetHolderId,
    allocation: AllocationId,
    amount: Pence,
    reason: &str,
) -> AppResult<Account> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    if amount == Pence::ZERO {
        return Err(FieldError::new("amount", "must be more than 0.00").into());
    }
    let reason = text("reason", reason, 1, 500)?;
    let actor = actor.clone();
    app.write(move |conn| {
        let row = plan_for(conn, &actor, holder)?;
        let today = london_today();
        let account = accounts(conn, &row, today)?
            .into_iter()
            .find(|a| a.allocation_id == allocation)
            .ok_or_else(|| AppError::unknown("allocation_id", "is not a direct payment of this plan"))?;
        if amount > account.test.surplus {
            return Err(AppError::conflict(
                "above_surplus",
                format!("the surplus is {}: no more can be reclaimed", account.test.surplus),
                Some("amount"),
            ));
        }
        let (taken, balance) = budget_holders::reduce(conn, allocation, amount)?;
        if !taken {
            return Err(AppError::conflict(
                "above_surplus",
                format!("only {balance} of the allocation is uncommitted"),
                Some("amount"),
            ));
        }
        dp::insert_recovery(conn, allocation, amount, &reason, actor.user_id)?;
        ledger::append(
            conn,
            Movement {
                allocation,
                kind: LedgerKind::Recovered,
                amount: amount.debit(),
                balance_after: balance,
                description: "Surplus reclaimed from the direct-payment account",
                cash_change: amount.debit(),
                ..Movement::default()
            },
        )?;
        records::record_change(conn, &actor, &row, RECOVERED)?;
        accounts(conn, &row, today)?
            .into_iter()
            .find(|a| a.allocation_id == allocation)
            .ok_or_else(|| AppError::not_found("allocation"))
    })
    .await
}

/// Add each direct payment's quarter to its quarterly return: payments in and invoices paid in
/// the quarter, spending dated in it, and the surplus test on its last day.
pub(crate) fn add_to_returns(
    conn: &mut Conn,
    row: &HolderRow,
    quarter: Quarter,
    returns: &mut [QuarterlyReturn],
) -> AppResult<()> {
    let (first, last) = (quarter.start(), quarter.end().pred_opt().unwrap_or(quarter.end()));
    let within = |d: NaiveDate| first <= d && d <= last;
    let outcomes = budget_holders::view(conn, row.clone())?.outcomes;
    for account in accounts(conn, row, last)? {
        let Some(r) = returns.iter_mut().find(|r| r.allocation_id == account.allocation_id) else {
            continue;
        };
        let spending = dp::of_allocation(conn, account.allocation_id)?
            .into_iter()
            .filter(|s| within(s.spent_on))
            .map(|s| {
                let outcome = s
                    .plan_outcome_id
                    .and_then(|id| outcomes.iter().find(|o| o.id.0 == id))
                    .map(|o| o.text.clone());
                (s, outcome)
            })
            .collect();
        r.direct_payment = Some(DirectPaymentQuarter {
            payments_in: account
                .paid_in
                .into_iter()
                .filter(|p| within(london_date(p.paid_at)))
                .collect(),
            invoices_paid: dp::family_paid_invoices(conn, account.allocation_id)?
                .into_iter()
                .filter(|i| i.paid_on.is_some_and(within))
                .collect(),
            spending,
            surplus_test: account.test,
        });
    }
    Ok(())
}

/// A plan's direct payments as its family's page shows them.
#[derive(Debug, Clone)]
pub struct PlanDirectPayment {
    pub plan: crate::db::budget_holders::BudgetHolderView,
    pub accounts: Vec<Account>,
    pub spending: Page<SpendingRow>,
}

/// The family's page: each of its plans with a direct payment, its accounts and a page of its
/// spending.
pub async fn family_page(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Vec<PlanDirectPayment>> {
    if actor.role != Role::Family {
        return Err(AppError::wrong_role(actor));
    }
    let mut out = Vec::new();
    for plan in super::plans::all(app, actor).await? {
        if !plan
            .allocations
            .iter()
            .any(|a| a.management == Management::DirectPayment)
        {
            continue;
        }
        let accounts = surplus(app, actor, plan.id).await?;
        let spending = spending_of(app, actor, plan.id, page).await?;
        out.push(PlanDirectPayment {
            plan,
            accounts,
            spending,
        });
    }
    Ok(out)
}

/// The council's page for one plan's direct payments: the accounts, surplus tests and spending.
pub async fn council_page(
    app: &App,
    actor: &Actor,
    holder: BudgetHolderId,
    page: PageRequest,
) -> AppResult<PlanDirectPayment> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    let plan = super::plans::get(app, actor, holder).await?;
    let accounts = surplus(app, actor, holder).await?;
    let spending = spending_of(app, actor, holder, page).await?;
    Ok(PlanDirectPayment {
        plan,
        accounts,
        spending,
    })
}
