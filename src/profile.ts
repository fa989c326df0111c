/**
 * A named set of defaults for every part of the construct.
 *
 * Every value a profile sets can be overridden by its own prop.
 */
export enum EnvironmentProfile {
  /**
   * Cheap and disposable: no NAT gateway (tasks get a public IP and accept traffic only from the load balancer),
   * one task, a single-AZ `db.t4g.micro` database, one day of backups, no deletion protection, and everything is
   * destroyed with the stack.
   */
  DEV = 'dev',

  /**
   * Safe: one NAT gateway per AZ, two to ten tasks across AZs, a Multi-AZ `db.m7g.large` database with 14 days of
   * point-in-time recovery and an AWS Backup plan, deletion protection, a final snapshot on removal, load balancer
   * access logs, a WAF web ACL, and logs and images retained.
   */
  PROD = 'prod',
}
