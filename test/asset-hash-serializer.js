module.exports={test:(v)=>typeof v==='string'&&/[0-9a-f]{64}/.test(v),serialize:(v,c,i,d,r,p)=>p(v.replace(/[0-9a-f]{64}/g,'[ASSET_HASH]'),c,i,d,r)};
