declare module 'parse-prometheus-text-format' {
  /** One sample as read: the value as written, the labels unescaped (absent when none). */
  export interface Sample {
    value: string
    labels?: Record<string, string>
    timestamp_ms?: string
  }
  /** One metric family: its `# HELP`, its `# TYPE` in capitals, and its samples in order. */
  export interface MetricFamily {
    name: string
    help: string
    type: string
    metrics: Sample[]
  }
  /** Prometheus text (lenient: `# UNIT` and `# EOF` are ignored, unknown lines often accepted). */
  export default function parsePrometheusTextFormat(text: string): MetricFamily[]
}
