//! The AWS Organization: roots, the OU tree, accounts, and every SCP with its document and
//! targets. No Organization, or no permission to read it, is recorded, not an error.

use std::collections::VecDeque;

use aws_config::SdkConfig;
use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};

use super::clients::{self, ApiCalls};
use super::CollectError;
use crate::snapshot::{
    CollectionError, OrgAccount, OrgRoot, Organization, OrganizationalUnit, ServiceControlPolicy,
};

/// The Organization, or why there is none. AWS's answer "no" (not in an organization, access
/// denied) is recorded; failing to reach AWS at all is an error.
pub async fn collect(
    config: &SdkConfig,
    calls: &ApiCalls,
) -> Result<(Option<Organization>, Option<CollectionError>), CollectError> {
    let client = clients::organizations(config, calls);
    let described = match client.describe_organization().send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_none() => {
            return Err(CollectError::aws("organizations:DescribeOrganization", e))
        }
        Err(e) => {
            let code = aws_sdk_organizations::error::ProvideErrorMetadata::code(&e)
                .unwrap_or("OrganizationUnavailable")
                .to_string();
            let message = CollectError::aws("organizations:DescribeOrganization", e).to_string();
            return Ok((None, Some(CollectionError { code, message })));
        }
    };
    let Some(org) = described.organization() else {
        let message = "DescribeOrganization returned no organization".to_string();
        return Ok((
            None,
            Some(CollectionError {
                code: "NoOrganization".into(),
                message,
            }),
        ));
    };
    match read_tree(
        &client,
        org.id().unwrap_or_default(),
        org.master_account_id().unwrap_or_default(),
    )
    .await
    {
        Ok(tree) => Ok((Some(tree), None)),
        // A permission missing for part of the tree is recorded; an unreachable AWS is not.
        Err(CollectError::Aws {
            operation,
            code: Some(code),
            message,
        }) => {
            let message = format!("AWS {operation} failed: {message}");
            Ok((None, Some(CollectionError { code, message })))
        }
        Err(e) => Err(e),
    }
}

async fn read_tree(
    client: &aws_sdk_organizations::Client,
    id: &str,
    management: &str,
) -> Result<Organization, CollectError> {
    let mut roots = Vec::new();
    let mut pages = client.list_roots().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| CollectError::aws("organizations:ListRoots", e))?;
        for r in page.roots() {
            roots.push(OrgRoot {
                id: r.id().unwrap_or_default().to_string(),
                name: r.name().unwrap_or_default().to_string(),
                policy_types: r
                    .policy_types()
                    .iter()
                    .filter(|t| t.status() == Some(&PolicyTypeStatus::Enabled))
                    .filter_map(|t| t.r#type().map(|t| t.as_str().to_string()))
                    .collect(),
            });
        }
    }

    // Walk the tree from the roots: OUs under each parent, and the accounts directly in it.
    let mut ous = Vec::new();
    let mut parent_of = std::collections::HashMap::new();
    let mut queue: VecDeque<String> = roots.iter().map(|r| r.id.clone()).collect();
    while let Some(parent) = queue.pop_front() {
        let mut pages = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                CollectError::aws("organizations:ListOrganizationalUnitsForParent", e)
            })?;
            for ou in page.organizational_units() {
                let ou_id = ou.id().unwrap_or_default().to_string();
                queue.push_back(ou_id.clone());
                ous.push(OrganizationalUnit {
                    id: ou_id,
                    name: ou.name().unwrap_or_default().to_string(),
                    parent_id: parent.clone(),
                });
            }
        }
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| CollectError::aws("organizations:ListAccountsForParent", e))?;
            for a in page.accounts() {
                parent_of.insert(
                    a.id().unwrap_or_default().to_string(),
                    (
                        parent.clone(),
                        account_state(a),
                        a.name().map(str::to_string),
                        a.email().map(str::to_string),
                    ),
                );
            }
        }
    }
    let mut accounts: Vec<OrgAccount> = parent_of
        .into_iter()
        .map(|(id, (parent_id, status, name, email))| OrgAccount {
            id,
            name: name.unwrap_or_default(),
            email,
            status,
            parent_id,
        })
        .collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));

    let mut policies = Vec::new();
    let mut pages = client
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| CollectError::aws("organizations:ListPolicies", e))?;
        for summary in page.policies() {
            let policy_id = summary.id().unwrap_or_default().to_string();
            let described = client
                .describe_policy()
                .policy_id(&policy_id)
                .send()
                .await
                .map_err(|e| CollectError::aws("organizations:DescribePolicy", e))?;
            let content = described.policy().and_then(|p| p.content()).unwrap_or("{}");
            let document = serde_json::from_str(content)
                .unwrap_or(serde_json::Value::String(content.to_string()));
            let mut targets = Vec::new();
            let mut target_pages = client
                .list_targets_for_policy()
                .policy_id(&policy_id)
                .into_paginator()
                .send();
            while let Some(page) = target_pages.next().await {
                let page =
                    page.map_err(|e| CollectError::aws("organizations:ListTargetsForPolicy", e))?;
                targets.extend(
                    page.targets()
                        .iter()
                        .filter_map(|t| t.target_id().map(str::to_string)),
                );
            }
            targets.sort();
            policies.push(ServiceControlPolicy {
                id: policy_id,
                name: summary.name().unwrap_or_default().to_string(),
                arn: summary.arn().map(str::to_string),
                aws_managed: summary.aws_managed(),
                document,
                targets,
            });
        }
    }
    policies.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Organization {
        id: id.to_string(),
        management_account_id: management.to_string(),
        roots,
        organizational_units: ous,
        accounts,
        policies,
    })
}

/// The account's `State` (the `Status` field is retired), e.g. `ACTIVE`, `SUSPENDED`.
#[allow(deprecated)]
fn account_state(a: &aws_sdk_organizations::types::Account) -> String {
    a.state()
        .map(|s| s.as_str().to_string())
        .or_else(|| a.status().map(|s| s.as_str().to_string()))
        .unwrap_or_else(|| "UNKNOWN".into())
}
