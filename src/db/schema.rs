// One schema for every backend; the migrations folders hold each backend's DDL.

diesel::table! {
    councils (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organisations (id) {
        id -> BigInt,
        name -> Text,
        kind -> Nullable<Text>,
        charity_number -> Nullable<Text>,
        company_number -> Nullable<Text>,
        website -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        description -> Text,
        status -> Text,
        created_at -> Timestamp,
        feed -> Nullable<Text>,
        feed_id -> Nullable<Text>,
        council_id -> Nullable<BigInt>,
        vat_number -> Nullable<Text>,
        vat_rate_bp -> Integer,
        payment_terms_days -> Integer,
        next_invoice_number -> BigInt,
        next_credit_note_number -> BigInt,
    }
}

diesel::table! {
    council_settings (council_id) {
        council_id -> BigInt,
        unverified_bookable -> Bool,
        updated_at -> Timestamp,
        invoice_period -> Text,
        period_anchor -> Date,
        audit_over_pence -> BigInt,
        audit_sample_percent -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        organisation_id -> Nullable<BigInt>,
        council_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        permissions -> Text,
        disabled_at -> Nullable<Timestamp>,
        email_confirmed_at -> Nullable<Timestamp>,
        mail_off -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (email_hash) {
        email_hash -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        next_attempt_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    services (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        description -> Text,
        min_age -> Integer,
        max_age -> Integer,
        ages_stated -> Bool,
        postcode -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        address -> Nullable<Text>,
        reach_miles -> Nullable<Double>,
        capacity -> Nullable<Integer>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        feed -> Nullable<Text>,
        feed_id -> Nullable<Text>,
        url -> Nullable<Text>,
        email -> Nullable<Text>,
        feed_hash -> Nullable<Text>,
        cancellation_notice_hours -> Integer,
        offer_window_hours -> Integer,
        late_cancellation -> Text,
        absence -> Text,
        publish_on_confirm -> Bool,
    }
}

diesel::table! {
    service_terms (service_id, term_id) {
        service_id -> BigInt,
        term_id -> Text,
        vocabulary -> Text,
    }
}

diesel::table! {
    service_streams (service_id, stream) {
        service_id -> BigInt,
        stream -> Text,
    }
}

diesel::table! {
    price_options (id) {
        id -> BigInt,
        service_id -> BigInt,
        position -> Integer,
        label -> Text,
        unit -> Text,
        price_pence -> BigInt,
        fcr_annual_direct_pence -> Nullable<BigInt>,
        fcr_annual_overheads_pence -> Nullable<BigInt>,
        fcr_units_per_year -> Nullable<BigInt>,
        fcr_occupancy_bp -> Nullable<Integer>,
        fcr_full_cost_pence -> Nullable<BigInt>,
        active -> Bool,
    }
}

diesel::table! {
    budget_holders (id) {
        id -> BigInt,
        council_id -> BigInt,
        reference -> Text,
        first_name -> Text,
        date_of_birth -> Date,
        postcode -> Text,
        plan_start -> Date,
        plan_end -> Date,
        family_user_id -> BigInt,
        broker_organisation_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    plan_outcomes (id) {
        id -> BigInt,
        budget_holder_id -> BigInt,
        position -> Integer,
        text -> Text,
        status -> Text,
    }
}

diesel::table! {
    plan_outcome_terms (plan_outcome_id, term_id) {
        plan_outcome_id -> BigInt,
        term_id -> Text,
    }
}

diesel::table! {
    plan_needs (budget_holder_id, term) {
        budget_holder_id -> BigInt,
        term -> Text,
    }
}

diesel::table! {
    allocations (id) {
        id -> BigInt,
        budget_holder_id -> BigInt,
        stream -> Text,
        management -> Text,
        amount_pence -> BigInt,
        committed_pence -> BigInt,
        admin_fee_pence -> BigInt,
        spent_pence -> BigInt,
        payment_schedule -> Text,
        awaiting_agreement -> Bool,
    }
}

diesel::table! {
    bookings (id) {
        id -> BigInt,
        budget_holder_id -> BigInt,
        allocation_id -> BigInt,
        service_id -> BigInt,
        organisation_id -> BigInt,
        price_option_id -> BigInt,
        quantity -> BigInt,
        unit_price_pence -> BigInt,
        total_pence -> BigInt,
        status -> Text,
        created_by -> BigInt,
        idempotency_key -> Nullable<Text>,
        request_fingerprint -> Nullable<Text>,
        remaining_after_pence -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        kind -> Text,
        reference -> Nullable<Text>,
        notes -> Text,
        contact -> Text,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> BigInt,
        allocation_id -> BigInt,
        booking_id -> Nullable<BigInt>,
        kind -> Text,
        amount_pence -> BigInt,
        balance_after_pence -> BigInt,
        description -> Text,
        created_at -> Timestamp,
        spent_change_pence -> BigInt,
        cash_change_pence -> BigInt,
        invoice_id -> Nullable<BigInt>,
        spending_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    council_listings (id) {
        id -> BigInt,
        council_id -> BigInt,
        organisation_id -> BigInt,
        status -> Text,
        verified_at -> Nullable<Timestamp>,
        suspended_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_links (id) {
        id -> BigInt,
        budget_holder_id -> BigInt,
        family_user_id -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(council_listings -> councils (council_id));
diesel::joinable!(council_listings -> organisations (organisation_id));
diesel::joinable!(plan_links -> budget_holders (budget_holder_id));

diesel::table! {
    user_totp (user_id) {
        user_id -> BigInt,
        secret -> Text,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    totp_recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(services -> organisations (organisation_id));
diesel::joinable!(price_options -> services (service_id));
diesel::joinable!(allocations -> budget_holders (budget_holder_id));
diesel::joinable!(plan_needs -> budget_holders (budget_holder_id));
diesel::joinable!(bookings -> services (service_id));
diesel::joinable!(bookings -> price_options (price_option_id));

diesel::allow_tables_to_appear_in_same_query!(
    councils,
    council_settings,
    organisations,
    users,
    sessions,
    services,
    service_terms,
    service_streams,
    price_options,
    budget_holders,
    plan_outcomes,
    plan_outcome_terms,
    plan_needs,
    allocations,
    bookings,
    ledger_entries,
    session_series,
    dated_sessions,
    booking_sessions,
    waitlist_entries,
    calendar_feeds,
    council_listings,
    plan_links,
    bank_details,
    payment_runs,
    invoices,
    invoice_lines,
    credit_notes,
    credit_note_lines,
    direct_payments,
    dp_spending,
    dp_recoveries,
    ras,
    pb_requests,
    pb_assessments,
    pb_decisions,
    pb_decision_lines,
    plan_reviews,
    notifications,
    account_tokens,
    threads,
    thread_messages,
    thread_reads,
);

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        event -> Text,
        title -> Text,
        paragraphs -> Text,
        link -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        mail_status -> Text,
        mail_attempts -> Integer,
        mail_error -> Nullable<Text>,
        mail_sent_at -> Nullable<Timestamp>,
        once_key -> Nullable<Text>,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    service_sessions (service_id, position) {
        service_id -> BigInt,
        position -> Integer,
        day -> Text,
        starts -> Text,
        ends -> Text,
    }
}

diesel::table! {
    service_changes (seq) {
        seq -> BigInt,
        service_id -> BigInt,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    search_log (id) {
        id -> BigInt,
        searched_at -> Timestamp,
        query_text -> Nullable<Text>,
        outcomes -> Text,
        service_types -> Text,
        needs -> Text,
        postcode_district -> Nullable<Text>,
        radius_miles -> Nullable<Double>,
        age -> Nullable<Integer>,
        result_count -> BigInt,
    }
}

diesel::table! {
    site_identity (id) {
        id -> Integer,
        uuid_prefix -> Text,
    }
}

diesel::table! {
    session_series (id) {
        id -> BigInt,
        service_id -> BigInt,
        days -> Text,
        first_day -> Date,
        last_day -> Date,
        starts -> Text,
        ends -> Text,
        except_days -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dated_sessions (id) {
        id -> BigInt,
        service_id -> BigInt,
        series_id -> Nullable<BigInt>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        places -> Integer,
        places_taken -> Integer,
        status -> Text,
        moved_from -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    booking_sessions (booking_id, session_id) {
        booking_id -> BigInt,
        session_id -> BigInt,
        price_pence -> BigInt,
        status -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    waitlist_entries (id) {
        id -> BigInt,
        session_id -> BigInt,
        budget_holder_id -> BigInt,
        allocation_id -> BigInt,
        price_option_id -> BigInt,
        created_by -> BigInt,
        status -> Text,
        offer_expires_at -> Nullable<Timestamp>,
        booking_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        subject_id -> BigInt,
        run_at -> Timestamp,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        done_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(dated_sessions -> services (service_id));
diesel::joinable!(bookings -> budget_holders (budget_holder_id));
diesel::joinable!(booking_sessions -> dated_sessions (session_id));
diesel::joinable!(booking_sessions -> bookings (booking_id));
diesel::joinable!(waitlist_entries -> dated_sessions (session_id));

diesel::table! {
    access_log (id) {
        id -> BigInt,
        at -> Timestamp,
        user_id -> Nullable<BigInt>,
        role -> Text,
        budget_holder_id -> BigInt,
        action -> Text,
        route -> Text,
    }
}

diesel::table! {
    search_log_monthly (month, postcode_district, outcome) {
        month -> Text,
        postcode_district -> Text,
        outcome -> Text,
        searches -> BigInt,
        without_results -> BigInt,
    }
}

diesel::table! {
    bank_details (organisation_id) {
        organisation_id -> BigInt,
        account_name -> Text,
        sealed -> Text,
        account_last_digits -> Text,
        payment_reference -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    payment_runs (id) {
        id -> BigInt,
        council_id -> BigInt,
        status -> Text,
        invoice_count -> BigInt,
        total_pence -> BigInt,
        created_by -> BigInt,
        created_at -> Timestamp,
        paid_on -> Nullable<Date>,
        paid_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invoices (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        budget_holder_id -> BigInt,
        council_id -> BigInt,
        payer -> Text,
        payer_organisation_id -> Nullable<BigInt>,
        period_start -> Date,
        period_end -> Date,
        status -> Text,
        number -> Nullable<BigInt>,
        issued_on -> Nullable<Date>,
        due_on -> Nullable<Date>,
        net_pence -> BigInt,
        vat_pence -> BigInt,
        total_pence -> BigInt,
        credited_pence -> BigInt,
        vat_number -> Nullable<Text>,
        vat_rate_bp -> Integer,
        notes -> Text,
        dispute_reason -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        paid_on -> Nullable<Date>,
        paid_reference -> Nullable<Text>,
        payment_run_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invoice_lines (id) {
        id -> BigInt,
        invoice_id -> BigInt,
        booking_id -> BigInt,
        session_id -> Nullable<BigInt>,
        item_key -> Text,
        allocation_id -> BigInt,
        delivered_on -> Date,
        description -> Text,
        quantity -> BigInt,
        unit_price_pence -> BigInt,
        amount_pence -> BigInt,
        credited_pence -> BigInt,
    }
}

diesel::table! {
    credit_notes (id) {
        id -> BigInt,
        invoice_id -> BigInt,
        organisation_id -> BigInt,
        number -> BigInt,
        reason -> Text,
        total_pence -> BigInt,
        vat_pence -> BigInt,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credit_note_lines (id) {
        id -> BigInt,
        credit_note_id -> BigInt,
        invoice_line_id -> BigInt,
        amount_pence -> BigInt,
    }
}

diesel::table! {
    direct_payments (id) {
        id -> BigInt,
        allocation_id -> BigInt,
        instalment -> Integer,
        due_on -> Date,
        amount_pence -> BigInt,
        paid_at -> Timestamp,
    }
}

diesel::table! {
    dp_spending (id) {
        id -> BigInt,
        budget_holder_id -> BigInt,
        allocation_id -> BigInt,
        payee -> Text,
        spent_on -> Date,
        amount_pence -> BigInt,
        description -> Text,
        plan_outcome_id -> Nullable<BigInt>,
        receipt_hash -> Nullable<Text>,
        receipt_type -> Nullable<Text>,
        receipt_bytes -> Nullable<BigInt>,
        status -> Text,
        sampled -> Bool,
        query -> Nullable<Text>,
        answer -> Nullable<Text>,
        recorded_by -> BigInt,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    dp_recoveries (id) {
        id -> BigInt,
        allocation_id -> BigInt,
        amount_pence -> BigInt,
        reason -> Text,
        recorded_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(invoice_lines -> invoices (invoice_id));
diesel::joinable!(invoice_lines -> bookings (booking_id));
diesel::joinable!(invoice_lines -> allocations (allocation_id));
diesel::joinable!(invoices -> budget_holders (budget_holder_id));
diesel::joinable!(credit_note_lines -> credit_notes (credit_note_id));
diesel::joinable!(credit_note_lines -> invoice_lines (invoice_line_id));
diesel::joinable!(credit_notes -> invoices (invoice_id));
diesel::joinable!(direct_payments -> allocations (allocation_id));
diesel::joinable!(dp_spending -> allocations (allocation_id));
diesel::joinable!(dp_recoveries -> allocations (allocation_id));
diesel::joinable!(bank_details -> organisations (organisation_id));

diesel::table! {
    ras (id) {
        id -> BigInt,
        council_id -> BigInt,
        name -> Text,
        stream -> Text,
        version -> Integer,
        definition -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        first_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pb_requests (id) {
        id -> BigInt,
        council_id -> BigInt,
        budget_holder_id -> BigInt,
        kind -> Text,
        streams -> Text,
        preferred_management -> Text,
        status -> Text,
        received_on -> Date,
        decision_due -> Date,
        made_by -> BigInt,
        made_by_role -> Text,
        notes -> Text,
        review_reason -> Nullable<Text>,
        review_requested_at -> Nullable<Timestamp>,
        review_requested_by -> Nullable<BigInt>,
        agreement_required -> Bool,
        agreement_accepted_at -> Nullable<Timestamp>,
        agreement_accepted_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pb_assessments (id) {
        id -> BigInt,
        pb_request_id -> BigInt,
        ras_id -> BigInt,
        stream -> Text,
        answers -> Text,
        raw_score -> Integer,
        band -> Nullable<Integer>,
        indicative_pence -> BigInt,
        assessed_by -> BigInt,
        by_family -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pb_decisions (id) {
        id -> BigInt,
        pb_request_id -> BigInt,
        stage -> Text,
        outcome -> Text,
        reasons -> Text,
        decided_by -> BigInt,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    pb_decision_lines (decision_id, stream) {
        decision_id -> BigInt,
        stream -> Text,
        management -> Text,
        amount_pence -> BigInt,
        indicative_pence -> Nullable<BigInt>,
        allocation_id -> BigInt,
    }
}

diesel::table! {
    plan_reviews (id) {
        id -> BigInt,
        budget_holder_id -> BigInt,
        kind -> Text,
        held_on -> Date,
        notes -> Text,
        recorded_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(pb_requests -> budget_holders (budget_holder_id));
diesel::joinable!(pb_assessments -> pb_requests (pb_request_id));
diesel::joinable!(pb_assessments -> ras (ras_id));
diesel::joinable!(pb_decisions -> pb_requests (pb_request_id));
diesel::joinable!(pb_decision_lines -> pb_decisions (decision_id));
diesel::joinable!(plan_reviews -> budget_holders (budget_holder_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));

diesel::table! {
    threads (id) {
        id -> BigInt,
        budget_holder_id -> BigInt,
        organisation_id -> BigInt,
        service_id -> Nullable<BigInt>,
        booking_id -> Nullable<BigInt>,
        started_by -> BigInt,
        started_by_role -> Text,
        council_added_at -> Nullable<Timestamp>,
        council_added_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_message_at -> Timestamp,
    }
}

diesel::table! {
    thread_messages (id) {
        id -> BigInt,
        thread_id -> BigInt,
        author_id -> BigInt,
        author_role -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    thread_reads (thread_id, user_id) {
        thread_id -> BigInt,
        user_id -> BigInt,
        last_read_message_id -> BigInt,
        read_at -> Timestamp,
    }
}

diesel::joinable!(threads -> budget_holders (budget_holder_id));
diesel::joinable!(threads -> organisations (organisation_id));
diesel::joinable!(thread_messages -> threads (thread_id));
diesel::joinable!(thread_reads -> threads (thread_id));
