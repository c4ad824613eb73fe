// worker: a Nest microservice on NATS. Each job is stored in PostgreSQL through TypeORM
// (db points, sql points with trace_db on) under the message's rpc point.
import 'reflect-metadata';
import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { flush } from '@osprofiler/core';
import { ProfilerModule, Traced } from '@osprofiler/nestjs';
import { instrumentDataSource } from '@osprofiler/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, Repository, type DataSourceOptions } from 'typeorm';

const env = process.env;

@Entity({ name: env.JOBS_TABLE })
class Job {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer')
  orderId: number;
}

// @Traced: a driver point per call, the db points under it.
@Traced()
@Injectable()
class Jobs {
  constructor(@InjectRepository(Job) private readonly jobs: Repository<Job>) {}

  async record(orderId: number): Promise<{ job: number; jobsForOrder: number }> {
    const saved = await this.jobs.save(this.jobs.create({ orderId }));
    return { job: saved.id, jobsForOrder: await this.jobs.countBy({ orderId }) };
  }
}

@Controller()
class JobsController {
  constructor(private readonly jobs: Jobs) {}

  @MessagePattern(env.WORKER_SUBJECT!)
  handle(@Payload() data: { order: number }): Promise<{ job: number; jobsForOrder: number }> {
    return this.jobs.record(data.order);
  }
}

@Module({
  imports: [
    ProfilerModule.forRoot({
      enabled: true,
      hmacKeys: [env.HMAC_KEY!],
      project: 'multi-service',
      service: 'worker',
      connectionString: env.AGENT_URL,
      traceDb: env.TRACE_DB === 'true',
      flushIntervalMs: 20,
    }),
    TypeOrmModule.forRootAsync({
      useFactory: (): DataSourceOptions => ({ type: 'postgres', url: env.DATABASE_URL, entities: [Job], synchronize: true, poolSize: 4 }),
      dataSourceFactory: async (options?: DataSourceOptions) => instrumentDataSource(new DataSource(options!)),
    }),
    TypeOrmModule.forFeature([Job]),
  ],
  controllers: [JobsController],
  providers: [Jobs],
})
class WorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(WorkerModule, {
    transport: Transport.NATS,
    options: { servers: [env.NATS_URL!] },
    logger: ['error', 'warn'],
  });
  await app.listen();
  console.log('LISTENING nats');
  process.on('SIGTERM', () => {
    const done = async (): Promise<void> => {
      // The jobs table is the run's own when DROP_JOBS_TABLE=1 (the check): dropped on the way out.
      if (env.DROP_JOBS_TABLE === '1') await app.get(DataSource).query(`DROP TABLE IF EXISTS "${env.JOBS_TABLE}"`);
      await app.close();
      await flush().catch(() => undefined);
    };
    void done().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
