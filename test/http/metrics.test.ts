import { describe, expect, it } from 'vitest';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger } from '../../agent/lib/log.js';
import { AgentMetrics } from '../../agent/http/metrics.js';

const person = { class: 'person', confidence: 0.9, bbox: { xmin: 1, ymin: 2, xmax: 3, ymax: 4 } };
const dog = { ...person, class: 'dog' };

function model(name: string, version: string) {
  return { current: () => ({ info: { name, version, sha256: 'ab', path: `/m/${name}.onnx` } }) };
}

/** The sample value of one series in a Prometheus text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('AgentMetrics', () => {
  it('turns bus events into the named series', async () => {
    const bus = new EventBus(silentLogger());
    let depth = 7;
    const metrics = new AgentMetrics({ bus, outboxDepth: () => depth, models: { intruder: model('yolov8n', '1.2'), forecast: model('ridge', '3') } });
    await metrics.start();
    bus.emit('frame.captured', { camera: 'main' });
    bus.emit('frame.captured', { camera: 'main' });
    bus.emit('frame.dropped', { camera: 'main', count: 3 });
    bus.emit('frame.skipped', { reason: 'no_motion' });
    bus.emit('inference', { model: 'yolov8n', version: '1.2', ms: 120 });
    bus.emit('detections', { objects: [person, person, dog] });
    bus.emit('intrusion', { camera: 'main', event: 'start', event_id: 'e1', objects: [person], snapshot: null });
    bus.emit('alarm', { on: true, reason: 'intrusion' });
    bus.emit('reading', { valid: true, celsius: 21.5, sensor: 'bme280@0x76', ts: 1 });
    bus.emit('reading', { valid: false, celsius: null, error: 'EIO', sensor: 'bme280@0x76', ts: 2 });
    bus.emit('forecast', { predicted_celsius: 22.25, ts: 3, horizon_s: 3600 });
    bus.emit('outbox.dropped', { count: 4 });
    bus.emit('published', { topic: 'edge/x/telemetry/temperature', latency_ms: 30 });
    bus.emit('mqtt.connection', { connected: true });
    bus.emit('pipeline.restart', { pipeline: 'vision', error: 'camera gone' });
    depth = 9;

    const text = await metrics.exposition();
    expect(sample(text, 'edge_agent_frames_captured_total{camera="main"}')).toBe(2);
    expect(sample(text, 'edge_agent_frames_dropped_total{camera="main"}')).toBe(3);
    expect(sample(text, 'edge_agent_frames_skipped_total{reason="no_motion"}')).toBe(1);
    expect(sample(text, 'edge_agent_inference_seconds_count{model="yolov8n",version="1.2"}')).toBe(1);
    expect(sample(text, 'edge_agent_inference_seconds_sum{model="yolov8n",version="1.2"}')).toBeCloseTo(0.12);
    expect(sample(text, 'edge_agent_inference_seconds_bucket{le="0.25",model="yolov8n",version="1.2"}')).toBe(1);
    expect(sample(text, 'edge_agent_inference_seconds_bucket{le="0.1",model="yolov8n",version="1.2"}')).toBe(0);
    expect(sample(text, 'edge_agent_detections_total{class="person"}')).toBe(2);
    expect(sample(text, 'edge_agent_detections_total{class="dog"}')).toBe(1);
    expect(sample(text, 'edge_agent_intrusion_events_total{camera="main",event="start"}')).toBe(1);
    expect(sample(text, 'edge_agent_alarm_on')).toBe(1);
    expect(sample(text, 'edge_agent_temperature_celsius{sensor="bme280@0x76"}')).toBe(21.5);
    expect(sample(text, 'edge_agent_sensor_errors_total{reason="EIO"}')).toBe(1);
    expect(sample(text, 'edge_agent_sensor_readings_total{sensor="bme280@0x76",valid="false"}')).toBe(1);
    expect(sample(text, 'edge_agent_forecast_celsius')).toBe(22.25);
    expect(sample(text, 'edge_agent_outbox_depth')).toBe(9);
    expect(sample(text, 'edge_agent_outbox_dropped_total')).toBe(4);
    expect(sample(text, 'edge_agent_publish_latency_seconds_count')).toBe(1);
    expect(sample(text, 'edge_agent_mqtt_connected')).toBe(1);
    expect(sample(text, 'edge_agent_pipeline_restarts_total{pipeline="vision"}')).toBe(1);
    expect(sample(text, 'edge_agent_model_info{role="intruder",name="yolov8n",version="1.2"}')).toBe(1);
    expect(sample(text, 'edge_agent_model_info{role="forecast",name="ridge",version="3"}')).toBe(1);
    // Process metrics come from this registry too (never prom-client's global one).
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);

    bus.emit('alarm', { on: false, reason: 'cleared' });
    expect(sample(await metrics.exposition(), 'edge_agent_alarm_on')).toBe(0);
  });

  it('exposes the forecast score, the fallback and the calibrations; a span with nothing scored has no MAE sample', async () => {
    const bus = new EventBus(silentLogger());
    const metrics = new AgentMetrics({ bus });
    await metrics.start();
    const window = (mae: number | null, persistence: number | null, skill: number | null, scored: number) => ({ mae_celsius: mae, persistence_mae_celsius: persistence, skill, scored });
    bus.emit('forecast.score', {
      ts: 1,
      model: { name: 'temperature-forecast', version: '1.1.0' },
      last_24h: window(0.31, 0.25, -0.24, 120),
      last_7d: window(0.2, 0.25, 0.2, 900),
      fallback: { active: true, reason: 'worse than persistence' },
    });
    const calibration = { ts: 2, reason: 'r', version: null, active: null, candidate_mae: null, active_mae: null, persistence_mae: null, training_windows: 0, holdout_windows: 0, candidate_path: null, cost: null };
    bus.emit('forecast.calibration', { ...calibration, outcome: 'rejected' });
    bus.emit('forecast.calibration', { ...calibration, outcome: 'promoted' });
    bus.emit('forecast.calibration', { ...calibration, outcome: 'rejected' });
    let text = await metrics.exposition();
    expect(sample(text, 'edge_agent_forecast_mae_celsius{span="24h",predictor="model"}')).toBe(0.31);
    expect(sample(text, 'edge_agent_forecast_mae_celsius{span="24h",predictor="persistence"}')).toBe(0.25);
    expect(sample(text, 'edge_agent_forecast_mae_celsius{span="7d",predictor="model"}')).toBe(0.2);
    expect(sample(text, 'edge_agent_forecast_skill{span="24h"}')).toBe(-0.24);
    expect(sample(text, 'edge_agent_forecasts_scored{span="7d"}')).toBe(900);
    expect(sample(text, 'edge_agent_forecast_fallback')).toBe(1);
    expect(sample(text, 'edge_agent_forecast_calibrations_total{outcome="rejected"}')).toBe(2);
    expect(sample(text, 'edge_agent_forecast_calibrations_total{outcome="promoted"}')).toBe(1);

    // A new model (promoted): nothing scored yet in 24 h.
    bus.emit('forecast.score', {
      ts: 3,
      model: { name: 'temperature-forecast-room', version: 'room-1' },
      last_24h: window(null, null, null, 0),
      last_7d: window(null, null, null, 0),
      fallback: { active: false, reason: null },
    });
    text = await metrics.exposition();
    expect(sample(text, 'edge_agent_forecast_mae_celsius{span="24h",predictor="model"}')).toBeUndefined();
    expect(sample(text, 'edge_agent_forecasts_scored{span="24h"}')).toBe(0);
    expect(sample(text, 'edge_agent_forecast_fallback')).toBe(0);
  });

  it('reads the broker connection at scrape time, so a connection made before it started still shows', async () => {
    const bus = new EventBus(silentLogger());
    let connected = true;
    const metrics = new AgentMetrics({ bus, mqttConnected: () => connected });
    expect(sample(await metrics.exposition(), 'edge_agent_mqtt_connected')).toBe(1);
    connected = false;
    expect(sample(await metrics.exposition(), 'edge_agent_mqtt_connected')).toBe(0);
  });

  it('stops counting once stopped, and two instances do not share series', async () => {
    const bus = new EventBus(silentLogger());
    const a = new AgentMetrics({ bus });
    const b = new AgentMetrics({ bus });
    await a.start();
    await b.start();
    await a.stop();
    bus.emit('frame.skipped', { reason: 'no_motion' });
    expect(sample(await a.exposition(), 'edge_agent_frames_skipped_total{reason="no_motion"}')).toBeUndefined();
    expect(sample(await b.exposition(), 'edge_agent_frames_skipped_total{reason="no_motion"}')).toBe(1);
    await b.stop();
  });

  it('caps free-text error reasons so a chatty sensor cannot grow the series without bound', async () => {
    const bus = new EventBus(silentLogger());
    const metrics = new AgentMetrics({ bus });
    await metrics.start();
    for (let i = 0; i < 100; i++) bus.emit('reading', { valid: false, celsius: null, error: `glitch #${i}`, sensor: 's', ts: i });
    const lines = (await metrics.exposition()).split('\n').filter((l) => l.startsWith('edge_agent_sensor_errors_total{'));
    expect(lines).toHaveLength(21);
    expect(sample(await metrics.exposition(), 'edge_agent_sensor_errors_total{reason="other"}')).toBe(80);
    await metrics.stop();
  });
});
